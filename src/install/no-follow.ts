/**
 * What `install` and `uninstall` do to the file system, through the same walk as every other write (src/fs/walk.ts):
 * each directory opened without following an untrusted link, each file created, chmod'ed, renamed and removed inside
 * the directory it was opened in, never by path. A user who owns a directory on the way cannot redirect any of it.
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { tempName } from "../fs/atomic-write.ts";
import { closeFound, findFile } from "../fs/open-file.ts";
import { decideChain, describeActor, requireOwnPlace, selfUid } from "../fs/place.ts";
import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, PathError, at, openDir, type DirCheck, type OpenedDir } from "../fs/walk.ts";

const O_DIR = O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

/** The directory `path` opened link by link, made where missing (each with `mode`, inside its opened parent). */
export function ensureDir(path: string, mode: number, check: DirCheck = requireOwnPlace): OpenedDir {
  const wanted = resolve(path);
  let prefix = wanted;
  let dir: OpenedDir | undefined;
  for (;;) {
    try {
      dir = openDir(prefix);
      break;
    } catch (error) {
      if ((error as PathError).code !== "ENOENT" || prefix === "/") throw error;
      prefix = dirname(prefix);
    }
  }
  const missing = wanted.slice(prefix.length).split("/").filter(Boolean);
  try {
    for (const name of missing) {
      check(dir.chain, dir.path);
      mkdirSync(at(dir.fd, name), { mode });
      const fd = openSync(at(dir.fd, name), O_DIR);
      fchmodSync(fd, mode); // the umask narrowed mkdir's mode
      const path: string = dir.path === "/" ? `/${name}` : `${dir.path}/${name}`;
      const info = fstatSync(fd);
      closeSync(dir.fd);
      dir = { fd, path, chain: [...dir.chain, { path, uid: info.uid, gid: info.gid, mode: info.mode & 0o7777 }] };
    }
    return dir;
  } catch (error) {
    closeSync(dir.fd);
    throw error;
  }
}

/** Who must act in an opened directory: `{ uid }` of its owner, or why nobody may (a third party could swap it). */
export function ownerOf(dir: OpenedDir): { ok: true; uid: number; gid: number; who: string } | { ok: false; message: string } {
  const decision = decideChain(dir.chain);
  if (!decision.ok) return { ok: false, message: `${dir.path}: ${decision.message}` };
  return { ok: true, uid: decision.actor.uid, gid: decision.actor.gid, who: describeActor(decision.actor) };
}

/**
 * Copies `source` (an open file's path such as /proc/self/exe, or a path) to `name` in the opened directory: a new
 * temp file (O_CREAT|O_EXCL|O_NOFOLLOW), written, chown'ed and chmod'ed through its own descriptor, fsync'ed and
 * renamed within that directory. Swapping the temp file for a link changes nothing outside it.
 */
export function installFile(source: string, dir: OpenedDir, name: string, mode: number, owner?: { uid: number; gid: number }) {
  const input = openSync(source, constants.O_RDONLY | O_CLOEXEC);
  const temp = tempName(name);
  let output: number | undefined;
  try {
    output = openSync(at(dir.fd, temp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(input, buffer, 0, buffer.length, null);
      if (n === 0) break;
      for (let off = 0; off < n; ) off += writeSync(output, buffer, off, n - off);
    }
    if (owner) fchownSync(output, owner.uid, owner.gid);
    fchmodSync(output, mode);
    fsyncSync(output);
    closeSync(output);
    output = undefined;
    renameSync(at(dir.fd, temp), at(dir.fd, name));
    fsyncSync(dir.fd);
  } catch (error) {
    if (output !== undefined) closeSync(output);
    try {
      unlinkSync(at(dir.fd, temp));
    } catch {
      // not there, or not ours to remove any more
    }
    throw error;
  } finally {
    closeSync(input);
  }
}

/**
 * Narrows a file's mode to `mode` through a descriptor of that very file (found without following an untrusted
 * link; a FIFO or device is refused by findFile and never opened). Returns the old mode when it changed.
 */
export function tightenFile(path: string, mode: number): number | undefined {
  let found;
  try {
    found = findFile(path);
  } catch (error) {
    if ((error as PathError).code === "ENOENT") return undefined; // its directory is not there yet
    throw error;
  }
  try {
    if (found.fd === undefined || !found.info) return undefined;
    const old = found.info.mode & 0o7777;
    if ((old & ~mode) === 0) return undefined;
    const fd = openSync(`/proc/self/fd/${found.fd}`, constants.O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    try {
      fchmodSync(fd, old & mode);
    } finally {
      closeSync(fd);
    }
    return old;
  } finally {
    closeFound(found);
  }
}

/** At most this deep and this many entries: a state or config directory holds a handful. */
const MAX_DEPTH = 16;
const MAX_ENTRIES = 10_000;

/**
 * rm -rf of `path` through the walk: its directory opened link by link (an untrusted link on the way is refused),
 * the place required to be this process's own, each entry removed inside its opened directory. A link is removed,
 * never followed; a directory that is not this process's own is left with everything under it, and said so.
 * Returns false when there was nothing to remove.
 */
export function removeTree(path: string): { removed: boolean; left: string[] } {
  const parent = openDir(dirname(resolve(path)));
  const left: string[] = [];
  try {
    requireOwnPlace(parent.chain, parent.path);
    const budget = { entries: MAX_ENTRIES };
    const removed = removeEntry(parent.fd, basename(path), resolve(path), 0, budget, left);
    if (removed) fsyncSync(parent.fd);
    return { removed, left };
  } finally {
    closeSync(parent.fd);
  }
}

function removeEntry(dirFd: number, name: string, shown: string, depth: number, budget: { entries: number }, left: string[]): boolean {
  if (--budget.entries < 0) throw new PathError(`${shown}: more than ${MAX_ENTRIES} entries: not removed further`, "E2BIG");
  let info;
  try {
    info = lstatSync(at(dirFd, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  if (!info.isDirectory()) {
    unlinkSync(at(dirFd, name));
    return true;
  }
  if (depth >= MAX_DEPTH) throw new PathError(`${shown}: nested deeper than ${MAX_DEPTH}: not removed`, "ELOOP");
  // O_NOFOLLOW: a directory swapped for a link since the lstat fails here instead of being entered.
  const fd = openSync(at(dirFd, name), O_DIR);
  try {
    if (fstatSync(fd).uid !== selfUid()) {
      left.push(`${shown} (belongs to uid ${fstatSync(fd).uid})`);
      return false;
    }
    for (const entry of readdirSync(`/proc/self/fd/${fd}`)) removeEntry(fd, entry, `${shown}/${entry}`, depth + 1, budget, left);
  } finally {
    closeSync(fd);
  }
  try {
    rmdirSync(at(dirFd, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOTEMPTY") return false;
    throw error;
  }
  return true;
}

/** Removes `dir` and then each parent up to (and including) `stop` while they are empty; each inside its opened parent. */
export function removeEmptyDirs(dir: string, stop: string): string[] {
  const removed: string[] = [];
  let current = resolve(dir);
  const last = resolve(stop);
  while (current === last || current.startsWith(`${last}/`)) {
    const parent = openDir(dirname(current));
    try {
      requireOwnPlace(parent.chain, parent.path);
      rmdirSync(at(parent.fd, basename(current)));
      removed.push(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOENT") break;
      throw error;
    } finally {
      closeSync(parent.fd);
    }
    if (current === last) break;
    current = dirname(current);
  }
  return removed;
}
