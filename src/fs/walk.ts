import { closeSync, constants, fstatSync, lstatSync, mkdirSync, opendirSync, openSync, readlinkSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { errnoDetail } from "./errors.ts";

/**
 * Path resolution one component at a time, as openat(2) with O_NOFOLLOW would do it: every directory is opened
 * without following a link and the next name is looked up in *that* open directory (through /proc/self/fd), so
 * nobody can swap a directory for a symlink between our check and our use. A symlink is followed only where it
 * and the directory holding it are root's (see `trustedLink`); any other link is refused.
 */

// O_DIRECTORY and O_NOFOLLOW differ between x86-64 and arm64: take them from the platform. O_PATH and O_CLOEXEC
// (missing from Node's table) have the same value on both.
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;
export const O_NOFOLLOW = constants.O_NOFOLLOW;
export const O_NONBLOCK = constants.O_NONBLOCK;
export const O_DIRECTORY = constants.O_DIRECTORY;
const O_DIR = O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC; // O_RDONLY is 0
/** Directories on the way are only passed through: O_PATH needs search permission on their parents, never read. */
const O_PASS = O_DIR | O_PATH;
const MAX_LINKS = 40;

/** A directory on the way, as it was when opened. */
export interface DirStep {
  path: string;
  uid: number;
  gid: number;
  mode: number;
  /** Device and inode, where the step was taken from an open directory (tells a directory from its replacement). */
  dev?: number;
  ino?: number;
}

export interface OpenedDir {
  fd: number;
  /** The real path of the opened directory (no links left in it). */
  path: string;
  /** Every directory from / down to this one, as opened. */
  chain: DirStep[];
}

export class PathError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** `/proc/self/fd/N/name`: the name looked up in the directory open as fd N, wherever that directory now is. */
export const at = (fd: number, name: string) => `/proc/self/fd/${fd}/${name}`;

export const step = (path: string, info: Stats): DirStep => ({ path, uid: info.uid, gid: info.gid, mode: info.mode & 0o7777, dev: info.dev, ino: info.ino });

/**
 * A directory this process was handed already open (src/privilege/: root opens the chain down to the owner's part
 * and hands that directory to the process acting as the owner, who may have no right at all on the directories
 * above). Walks to a path below it start there, with `chain` (as root saw it) standing for the way down.
 */
export interface WalkRoot {
  fd: number;
  path: string;
  chain: DirStep[];
}

let walkRoots: WalkRoot[] = [];

/** From now on, walks to a path below one of `roots` start at that directory (the deepest one) instead of at `/`. */
export function startWalksFrom(roots: WalkRoot[]): void {
  walkRoots = [...roots].sort((a, b) => b.path.length - a.path.length);
}

const parts = (path: string) => path.split("/").filter(Boolean);

/** Where a walk to `pending` (absolute, split) begins: the deepest handed directory above it, else `/`. */
function begin(pending: string[]): { fd: number; current: string; chain: DirStep[]; rest: string[] } {
  for (const root of walkRoots) {
    const prefix = parts(root.path);
    if (prefix.length > pending.length || !prefix.every((name, i) => pending[i] === name)) continue;
    const rest = pending.slice(prefix.length);
    const fd = openSync(at(root.fd, "."), rest.length ? O_PASS : O_DIR);
    return { fd, current: root.path, chain: [...root.chain.slice(0, -1), step(root.path, fstatSync(fd))], rest };
  }
  const fd = openSync("/", pending.length ? O_PASS : O_DIR);
  return { fd, current: "/", chain: [step("/", fstatSync(fd))], rest: pending };
}

/** A link may be followed where nobody but root could have put it there: root's link in a directory only root writes. */
export function trustedLink(link: { uid: number }, dir: DirStep): boolean {
  if (link.uid !== 0 || dir.uid !== 0) return false;
  const othersWrite = (dir.mode & 0o002) !== 0 && (dir.mode & 0o1000) === 0;
  const groupWrites = (dir.mode & 0o020) !== 0 && dir.gid !== 0;
  return !othersWrite && !groupWrites;
}

/** Called with the chain so far before a missing directory is created: throws where we must not create it. */
export type DirCheck = (chain: DirStep[], path: string) => void;

/**
 * Opens the directory `path` without following untrusted links; `create` makes missing ones (0700, our uid).
 * Directories on the way are opened O_PATH (search permission suffices, as for any path lookup); only the last one
 * is opened for reading.
 */
export function openDir(path: string, options: { create?: boolean; check?: DirCheck } = {}): OpenedDir {
  requireProc();
  let links = 0;
  let { fd, current, chain, rest: pending } = begin(parts(resolve(path)));
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      let next: number;
      try {
        next = openSync(at(fd, name), pending.length ? O_PASS : O_DIR);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "EIO";
        const here = join(current, name);
        if (code === "ENOENT" && options.create) {
          options.check?.(chain, current);
          try {
            mkdirSync(at(fd, name), { mode: 0o700 });
          } catch (made) {
            // Another process made it meanwhile (two writers' first records at once): opened as theirs is.
            if ((made as NodeJS.ErrnoException).code !== "EEXIST") throw made;
          }
          pending.unshift(name);
          continue;
        }
        if (code !== "ENOTDIR" && code !== "ELOOP") throw new PathError(`${here}: ${errnoDetail(error)}`, code);
        const info = lstatSync(at(fd, name));
        if (!info.isSymbolicLink()) throw new PathError(`${here} is not a directory`, "ENOTDIR");
        if (!trustedLink(info, chain.at(-1)!)) {
          throw new PathError(`${here} is a symbolic link not owned by root in a directory only root writes: not followed`, "ELOOP");
        }
        if (++links > MAX_LINKS) throw new PathError(`${here}: too many levels of symbolic links`, "ELOOP");
        const target = readlinkSync(at(fd, name));
        const rest = pending.join("/");
        const restart = parts(resolve(isAbsolute(target) ? target : resolve(current, target), rest));
        closeSync(fd);
        fd = -1;
        ({ fd, current, chain, rest: pending } = begin(restart));
        continue;
      }
      closeSync(fd);
      fd = next;
      current = join(current, name);
      chain.push(step(current, fstatSync(fd)));
    }
    return { fd, path: current, chain };
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    throw error;
  }
}

/**
 * The deepest existing directory of `path`, opened (for deciding who owns a place before its directories are made),
 * and the names below it that do not exist yet. Any error but a missing directory is returned as it is.
 */
export function openDeepest(path: string): { ok: true; dir: OpenedDir; missing: string[] } | { ok: false; error: PathError } {
  let dir = resolve(path);
  const missing: string[] = [];
  for (;;) {
    try {
      return { ok: true, dir: openDir(dir), missing };
    } catch (error) {
      const code = (error as PathError).code;
      if (code !== "ENOENT" || dir === "/") return { ok: false, error: error instanceof PathError ? error : new PathError(String((error as Error).message ?? error), code ?? "EIO") };
      missing.unshift(basename(dir));
      dir = dirname(dir);
    }
  }
}

/**
 * The names in directory `dir`, found with the walk above; none where it cannot be opened. At most `limit`: the
 * directories listed are often a user's, who could fill one with a million names to stall every pass.
 */
export function listDir(dir: string, limit = 10_000): string[] {
  try {
    const opened = openDir(dir);
    try {
      const listing = opendirSync(`/proc/self/fd/${opened.fd}`);
      const names: string[] = [];
      try {
        for (let entry = listing.readSync(); entry && names.length < limit; entry = listing.readSync()) names.push(entry.name);
      } finally {
        listing.closeSync();
      }
      return names;
    } finally {
      closeSync(opened.fd);
    }
  } catch {
    return [];
  }
}

let procChecked = false;
/** Without /proc the lookups below would all fail with a misleading ENOENT: say what is missing instead. */
function requireProc() {
  if (procChecked) return;
  try {
    lstatSync("/proc/self/fd");
    procChecked = true;
  } catch {
    throw new PathError("/proc is not mounted: oauth-sync needs /proc/self/fd to open paths without following links", "ENOPROC");
  }
}

function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}
