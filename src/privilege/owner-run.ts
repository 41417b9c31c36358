import { join } from "node:path";
import { describeActor, loginActor, placeOf, selfUid } from "../fs/place.ts";
import type { Actor } from "../fs/trust.ts";
import { loadAccounts, type PasswdEntry } from "../users/accounts.ts";

export interface OwnerRunOptions {
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  cwd?: string;
}

/**
 * Who owns a directory (the deepest existing part of it), by the rules of src/fs/trust.ts, as the account a program
 * runs as: a rootless container's subordinate uid stands for the login whose /etc/subuid range holds it.
 */
export function ownerOfDir(dir: string): { ok: true; actor: Actor } | { ok: false; message: string } {
  const place = placeOf(join(dir, ".oauth-sync-probe"));
  return place.ok ? { ok: true, actor: loginActor(place.actor) } : place;
}

/** How a refusal names the setting, the program and what it reads. */
export interface RunAsWords {
  setting: string;
  program: string;
  reads: string;
}

/**
 * Pure: as whom a program that reads `dir` runs: always the owner of `dir` (taken without following links, never from
 * a file its owner can swap). A configured user (a name or a uid) must be that owner; a process that is not root can
 * only run it as itself. `runAs` is left out where that is this process itself.
 */
export function chooseUser(
  selfUid: number,
  configured: string | undefined,
  owner: { uid: number; gid: number },
  passwd: PasswdEntry[],
  dir: string,
  words: RunAsWords,
): { ok: true; runAs?: PasswdEntry } | { ok: false; message: string } {
  const entry = passwd.find((e) => e.uid === owner.uid);
  const ownerName = owner.uid === 0 ? "root" : entry ? entry.name : `uid ${owner.uid}`;
  if (configured) {
    const wanted = passwd.find((e) => e.name === configured || String(e.uid) === configured)?.uid ?? (/^\d+$/.test(configured) ? Number(configured) : undefined);
    if (wanted === undefined) return { ok: false, message: `${words.setting} "${configured}" is not in /etc/passwd` };
    if (wanted !== owner.uid) {
      return { ok: false, message: `${words.setting} "${configured}", but ${dir} belongs to ${ownerName}: ${words.program} runs only as the owner of ${words.reads} (remove ${words.setting} or fix the owner)` };
    }
  }
  if (owner.uid === selfUid) return { ok: true };
  if (selfUid !== 0) return { ok: false, message: `${dir} belongs to ${ownerName}: only root can run ${words.program} as another user` };
  return { ok: true, runAs: entry ?? { name: String(owner.uid), uid: owner.uid, gid: owner.gid, home: "/" } };
}

const OPENCLAW_WORDS: RunAsWords = { setting: "user", program: "openclaw", reads: "what it reads" };

/**
 * How to run openclaw (or another program) that reads `dir`: as the owner of that directory, with that owner's HOME,
 * USER and LOGNAME, never as root against a place a user can write (their config could run anything as us).
 */
export function ownerRun(dir: string, env: Record<string, string>, configuredUser?: string): { ok: true; options: OwnerRunOptions } | { ok: false; message: string } {
  const owner = ownerOfDir(dir);
  if (!owner.ok) return { ok: false, message: `${dir}: ${owner.message}` };
  const { actor } = owner;
  const user = chooseUser(selfUid(), configuredUser, actor, loadAccounts().passwd, dir, OPENCLAW_WORDS);
  if (!user.ok) return user;
  if (!user.runAs) return { ok: true, options: { env } };
  if (env.HOME) {
    const homeOwner = ownerOfDir(env.HOME);
    if (!homeOwner.ok || homeOwner.actor.uid !== actor.uid) {
      return { ok: false, message: `HOME=${env.HOME} does not belong to the owner of ${dir} (${describeActor(actor)}): refused` };
    }
  }
  const { name, home } = user.runAs;
  return { ok: true, options: { env: { ...env, HOME: env.HOME ?? home, USER: name, LOGNAME: name }, uid: actor.uid, gid: actor.gid, cwd: "/" } };
}
