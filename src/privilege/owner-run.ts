import { join } from "node:path";
import { describeActor, placeOf, selfUid } from "../fs/place.ts";
import type { Actor } from "../fs/trust.ts";
import { loadAccounts } from "../users/accounts.ts";

export interface OwnerRunOptions {
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  cwd?: string;
}

/** Who owns a directory (the deepest existing part of it), by the rules of src/fs/trust.ts. */
export function ownerOfDir(dir: string): { ok: true; actor: Actor } | { ok: false; message: string } {
  return placeOf(join(dir, ".oauth-sync-probe"));
}

/**
 * How to run a program (openclaw, claude) that reads `dir`: as the owner of that directory, with that owner's
 * HOME, USER and LOGNAME, never as root against a place a user can write (their config could run anything as us).
 * A configured `user` must be that owner. Root-owned places run as root; a service that is not root only as itself.
 */
export function ownerRun(dir: string, env: Record<string, string>, configuredUser?: string): { ok: true; options: OwnerRunOptions } | { ok: false; message: string } {
  const owner = ownerOfDir(dir);
  if (!owner.ok) return { ok: false, message: `${dir}: ${owner.message}` };
  const { actor } = owner;
  const accounts = loadAccounts();
  const entry = accounts.byUid(actor.uid);
  if (configuredUser !== undefined) {
    const wanted = accounts.byName(configuredUser) ?? (/^\d+$/.test(configuredUser) ? { uid: Number(configuredUser) } : undefined);
    if (!wanted) return { ok: false, message: `user "${configuredUser}" is not in /etc/passwd` };
    if (wanted.uid !== actor.uid) return { ok: false, message: `user "${configuredUser}" is set, but ${dir} belongs to ${describeActor(actor)}: programs run only as the owner of what they read` };
  }
  const self = selfUid();
  if (actor.uid === self) return { ok: true, options: { env } };
  if (self !== 0) return { ok: false, message: `${dir} belongs to ${describeActor(actor)}: only root can run a program as that user` };
  const home = env.HOME ?? entry?.home ?? "/";
  if (env.HOME) {
    const homeOwner = ownerOfDir(env.HOME);
    if (!homeOwner.ok || homeOwner.actor.uid !== actor.uid) {
      return { ok: false, message: `HOME=${env.HOME} does not belong to the owner of ${dir} (${describeActor(actor)}): refused` };
    }
  }
  const name = entry?.name ?? String(actor.uid);
  return { ok: true, options: { env: { ...env, HOME: home, USER: name, LOGNAME: name }, uid: actor.uid, gid: actor.gid, cwd: "/" } };
}
