import { describeActor, placeOf, selfUid } from "../fs/place.ts";
import { runAsOwner } from "../privilege/as-owner.ts";
import type { Target } from "./types.ts";

/**
 * A file target in a place that belongs to someone else is synced by a child running as that owner: read, plan and
 * write happen with their rights. In our own place (root's, or ours when not root) it runs here.
 */
export function ownedFileTarget(local: Target, path: string): Target {
  return {
    ...local,
    async sync(credentials, context) {
      const place = placeOf(path);
      if (!place.ok) return { id: local.id, status: "refused", message: `${path}: ${place.message}` };
      const self = selfUid();
      if (place.actor.uid === self) return local.sync(credentials, context);
      if (self !== 0) return { id: local.id, status: "refused", message: `${path} belongs to ${describeActor(place.actor)}: run oauth-sync as root or as that user` };
      const answer = await runAsOwner(place.actor, { op: "sync-target", target: local.config, credentials, state: context.state, now: context.now, force: context.force }, context.run);
      if (!answer.ok) return { id: local.id, status: "failed", message: answer.error };
      if (!answer.outcome) return { id: local.id, status: "failed", message: `acting as ${describeActor(place.actor)}: no outcome` };
      return { ...answer.outcome, id: local.id };
    },
  };
}
