import { closeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { loadAccounts, type Accounts } from "../users/accounts.ts";
import { decidePlace, describeUid, isHomeOrAbove, principalOf, type Actor, type PlaceDecision } from "./trust.ts";
import { closeFound, findFile, readFound, type FoundFile } from "./open-file.ts";
import { openDeepest, PathError, type DirStep } from "./walk.ts";

export function selfUid(): number {
  return process.geteuid?.() ?? 0;
}

/** Pure-ish: the chain of an opened directory → who must act there (accounts read fresh). */
export function decideChain(chain: DirStep[]): PlaceDecision {
  return decidePlace(chain, loadAccounts());
}

/**
 * Who must act for a file at `path`: the owner of its directory (of the deepest one that exists, for a file whose
 * directories are still to be made), provided the chain above is theirs or root's alone.
 */
export function placeOf(path: string): PlaceDecision {
  const deepest = openDeepest(dirname(resolve(path)));
  if (!deepest.ok) return { ok: false, message: deepest.error.message };
  closeSync(deepest.dir.fd);
  return decideChain(deepest.dir.chain);
}

/** Throws unless this process is the one who must act in the directory `chain` ends in. */
export function requireOwnPlace(chain: DirStep[], path: string): void {
  const decision = decideChain(chain);
  if (!decision.ok) throw new PathError(`${path}: ${decision.message}`, "EUNSAFE");
  const self = selfUid();
  if (decision.actor.uid !== self) {
    throw new PathError(`${path} belongs to ${describeActor(decision.actor)}: only that user writes there`, "EOWNER");
  }
}

/**
 * The account that runs a program for a place's owner: the owner itself, or, for a rootless container's subordinate
 * uid, the login whose range holds it (podman runs as that user, never as one of its containers' uids).
 */
export function loginActor(actor: Actor, accounts: Accounts = loadAccounts()): Actor {
  const login = principalOf(actor.uid, accounts);
  return login === actor.uid ? actor : { uid: login, gid: accounts.primaryGid(login) ?? login };
}

export function describeActor(actor: Actor, accounts: Accounts = loadAccounts()): string {
  return actor.uid === 0 ? "root" : describeUid(actor.uid, accounts);
}

export type TrustedRead = { ok: true; text: string } | { ok: false; code: string; message: string };

/**
 * Reads a file that steers what this process does (its config, its state): only where nobody but this user (or
 * root) could have written the file or redirected the path to it, after OpenSSH's StrictModes. The refusal says
 * the exact command that fixes it.
 */
export function readOwnFile(path: string, maxBytes: number): TrustedRead {
  let found: FoundFile | undefined;
  try {
    found = findFile(path);
    const problem = ownDirProblem(found.dir.chain, found.dir.path);
    if (problem) return { ok: false, code: "EUNSAFE", message: `${path}: ${problem}` };
    if (found.fd === undefined || !found.info) return { ok: false, code: "ENOENT", message: `${path}: no such file or directory` };
    const self = selfUid();
    const { uid, mode } = found.info;
    if (uid !== self && uid !== 0) return { ok: false, code: "EUNSAFE", message: `${path} belongs to uid ${uid}, who could change what oauth-sync does: fix: \`chown ${self} ${path}\`` };
    if (mode & 0o022) return { ok: false, code: "EUNSAFE", message: `${path} is writable by ${mode & 0o002 ? "every user" : "its group"}: fix: \`chmod go-w ${path}\`` };
    return { ok: true, text: readFound(found, maxBytes, path) };
  } catch (error) {
    return { ok: false, code: (error as PathError).code ?? "EIO", message: (error as Error).message };
  } finally {
    if (found) closeFound(found);
  }
}

/** Why a directory of ours (the state dir, the config's) is not ours alone, with the fix; undefined when it is. */
export function ownDirProblem(chain: DirStep[], dir: string, accounts: Accounts = loadAccounts(), self = selfUid()): string | undefined {
  const decision = decidePlace(chain, accounts);
  if (!decision.ok) return decision.message;
  if (decision.actor.uid === self || decision.actor.uid === 0) return undefined;
  const who = describeActor(decision.actor, accounts);
  if (isHomeOrAbove(dir, accounts.homes)) {
    return `${dir} belongs to ${who}, who could change what oauth-sync does: it is a home directory (or above one), never to be re-owned: choose a directory of ${self === 0 ? "root's" : "your own"} for it instead`;
  }
  return `${dir} belongs to ${who}, who could change what oauth-sync does: fix: \`chown ${self}:${self === 0 ? 0 : (process.getegid?.() ?? self)} ${dir} && chmod go-w ${dir}\``;
}

/** The same check for a directory path that may not exist yet (then its deepest existing parent is checked). */
export function ownDirPathProblem(dir: string): string | undefined {
  const deepest = openDeepest(dir);
  if (!deepest.ok) return deepest.error.message;
  closeSync(deepest.dir.fd);
  return ownDirProblem(deepest.dir.chain, deepest.dir.path);
}
