import type { FileTargetConfig } from "../config/schema.ts";
import type { ClaudeCredentials } from "../credentials/parse.ts";
import { MAX_BYTES, readRegularFile } from "../fs/open-file.ts";
import { describeActor, selfUid } from "../fs/place.ts";
import { fingerprint } from "../log/redact.ts";
import { runAsOwner } from "../privilege/as-owner.ts";
import { credentialsFor } from "../privilege/crossing.ts";
import { handoverFor } from "../privilege/handover.ts";
import { nextStep, type Guard, type Planner } from "./file-target.ts";
import type { Target, TargetOutcome } from "./types.ts";

/**
 * A file target in a place that belongs to someone else is written by the worker acting as that owner
 * (src/privilege/pool.ts): read, plan and write happen with their rights, and it gets only what this target writes
 * (`credentialsFor`). Root looks first, reading the file itself without following links: a target that already
 * holds the token, or that must not be written, needs nobody's rights. After the worker's answer root reads the file
 * again: a write the worker claims counts only when the file holds the token sent. In our own place it runs here.
 */
export function ownedFileTarget(local: Target, config: FileTargetConfig, plan: Planner, guard?: Guard): Target {
  const id = local.id;
  return {
    ...local,
    async sync(credentials, context) {
      const hand = handoverFor(config.path);
      if (!hand.ok) return { id, status: "refused", message: `${config.path}: ${hand.message}` };
      const self = selfUid();
      if (hand.actor.uid === self) return local.sync(credentials, context);
      const who = describeActor(hand.actor);
      if (self !== 0) return { id, status: "refused", message: `${config.path} belongs to ${who}: run oauth-sync as root or as that user` };
      const look = nextStep(config, readRegularFile(config.path, MAX_BYTES.target), plan, credentials, context);
      if ("done" in look) {
        // What the worker would answer, but a target that must not be written at all says so instead.
        const refusal = await guard?.();
        return refusal ? { id, status: "refused", message: refusal } : look.done;
      }
      const answer = await runAsOwner(hand.actor, hand.top, {
        op: "sync-target",
        target: { ...config, path: hand.realPath },
        credentials: credentialsFor(config, credentials),
        state: context.state,
        now: context.now,
        force: context.force,
      });
      if (!answer.ok) return { id, status: "failed", message: answer.error };
      if (!answer.outcome) return { id, status: "failed", message: `acting as ${who}: no outcome` };
      const { status, message } = answer.outcome;
      if (status === "written" || status === "unchanged") return confirm(status, credentials, who);
      return { id, status, ...(message ? { message } : {}) };
    },
  };

  /** The worker's word is a claim: root reads the file back and counts the write only when it holds the token sent. */
  function confirm(status: "written" | "unchanged", credentials: ClaudeCredentials, who: string): TargetOutcome {
    const back = readRegularFile(config.path, MAX_BYTES.target);
    const planned = back.ok ? plan(back.text, credentials) : undefined;
    if (planned?.ok && planned.held?.token === credentials.accessToken) return { id, status };
    return {
      id,
      status: "failed",
      message: `${config.path}: acting as ${who} reported "${status}", but the file does not hold the token ${fingerprint(credentials.accessToken)}: not counted as synced`,
    };
  }
}
