import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, type Stats } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
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
const MAX_LINKS = 40;

/** A directory on the way, as it was when opened. */
export interface DirStep {
  path: string;
  uid: number;
  gid: number;
  mode: number;
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

export const step = (path: string, info: Stats): DirStep => ({ path, uid: info.uid, gid: info.gid, mode: info.mode & 0o7777 });

/** A link may be followed where nobody but root could have put it there: root's link in a directory only root writes. */
export function trustedLink(link: { uid: number }, dir: DirStep): boolean {
  if (link.uid !== 0 || dir.uid !== 0) return false;
  const othersWrite = (dir.mode & 0o002) !== 0 && (dir.mode & 0o1000) === 0;
  const groupWrites = (dir.mode & 0o020) !== 0 && dir.gid !== 0;
  return !othersWrite && !groupWrites;
}

/** Called with the chain so far before a missing directory is created: throws where we must not create it. */
export type DirCheck = (chain: DirStep[], path: string) => void;

/** Opens the directory `path` without following untrusted links; `create` makes missing ones (0700, our uid). */
export function openDir(path: string, options: { create?: boolean; check?: DirCheck } = {}): OpenedDir {
  requireProc();
  let links = 0;
  let pending = resolve(path).split("/").filter(Boolean);
  let fd = openSync("/", O_DIR);
  let current = "/";
  let chain = [step("/", fstatSync(fd))];
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      let next: number;
      try {
        next = openSync(at(fd, name), O_DIR);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "EIO";
        const here = join(current, name);
        if (code === "ENOENT" && options.create) {
          options.check?.(chain, current);
          mkdirSync(at(fd, name), { mode: 0o700 });
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
        pending = resolve(isAbsolute(target) ? target : resolve(current, target), rest).split("/").filter(Boolean);
        closeSync(fd);
        fd = openSync("/", O_DIR);
        current = "/";
        chain = [step("/", fstatSync(fd))];
        continue;
      }
      closeSync(fd);
      fd = next;
      current = join(current, name);
      chain.push(step(current, fstatSync(fd)));
    }
    return { fd, path: current, chain };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * The deepest existing directory of `path`, opened (for deciding who owns a place before its directories are made).
 * Any error but a missing directory is returned as it is.
 */
export function openDeepest(path: string): { ok: true; dir: OpenedDir } | { ok: false; error: PathError } {
  let dir = resolve(path);
  for (;;) {
    try {
      return { ok: true, dir: openDir(dir) };
    } catch (error) {
      const code = (error as PathError).code;
      if (code !== "ENOENT" || dir === "/") return { ok: false, error: error instanceof PathError ? error : new PathError(String((error as Error).message ?? error), code ?? "EIO") };
      dir = dirname(dir);
    }
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
