import { closeSync, fstatSync, openSync, readlinkSync, readSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK, O_PATH, PathError, at, openDir, trustedLink, type DirCheck, type OpenedDir } from "./walk.ts";
import { errnoDetail } from "./errors.ts";

/** Size caps for files we read: a credentials file is a few KB, a target or state file far below a MiB. */
export const MAX_BYTES = { credentials: 256 * 1024, target: 4 * 1024 * 1024, state: 1024 * 1024, config: 1024 * 1024 } as const;

const MAX_LINKS = 40;

/** A file found without following untrusted links: its directory stays open, the file itself is an O_PATH handle. */
export interface FoundFile {
  dir: OpenedDir;
  name: string;
  /** O_PATH handle of the file, or undefined when it does not exist. */
  fd?: number;
  info?: Stats;
}

/**
 * Finds `path`: its directory opened link by link, then the name itself with O_PATH|O_NOFOLLOW, which opens
 * nothing (no FIFO blocks, no device wakes). A link at the name is followed only where it and its directory are
 * root's. Anything but a regular file is refused. Close with `closeFound`.
 */
export function findFile(path: string, options: { createParents?: boolean; check?: DirCheck } = {}, depth = 0): FoundFile {
  const dir = openDir(dirname(resolve(path)), { create: options.createParents, check: options.check });
  const name = basename(path);
  let fd: number;
  try {
    fd = openSync(at(dir.fd, name), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { dir, name };
    closeSync(dir.fd);
    throw new PathError(`${path}: ${errnoDetail(error)}`, (error as NodeJS.ErrnoException).code ?? "EIO");
  }
  const info = fstatSync(fd);
  if (info.isSymbolicLink()) {
    const target = trustedLink(info, dir.chain.at(-1)!) ? readlinkSync(at(dir.fd, name)) : undefined;
    closeSync(fd);
    const where = dir.path;
    closeSync(dir.fd);
    if (target === undefined) {
      throw new PathError(`${path} is a symbolic link, and only a link that root owns in a directory only root writes is followed: not touched`, "ELOOP");
    }
    if (depth >= MAX_LINKS) throw new PathError(`${path}: too many levels of symbolic links`, "ELOOP");
    return findFile(isAbsolute(target) ? target : resolve(where, target), options, depth + 1);
  }
  if (!info.isFile()) {
    closeSync(fd);
    closeSync(dir.fd);
    throw new PathError(`${path} is ${kindOf(info)}, not a regular file: not touched`, "EFTYPE");
  }
  return { dir, name, fd, info };
}

export function closeFound(found: FoundFile) {
  if (found.fd !== undefined) closeSync(found.fd);
  closeSync(found.dir.fd);
}

/** Reads the file behind an O_PATH handle, refusing more than `maxBytes` (a reopen of that very inode). */
export function readFound(found: FoundFile, maxBytes: number, shown: string): string {
  if (found.fd === undefined || !found.info) throw new PathError(`${shown}: no such file`, "ENOENT");
  if (found.info.size > maxBytes) throw tooLarge(shown, maxBytes);
  const fd = openSync(`/proc/self/fd/${found.fd}`, O_NONBLOCK | O_CLOEXEC);
  try {
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(found.info.size + 1, 4096)));
    let length = 0;
    for (;;) {
      if (length === buffer.length) throw tooLarge(shown, maxBytes); // grew while we read
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw tooLarge(shown, maxBytes);
    }
    return buffer.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}

export type ReadResult = { ok: true; text: string; info: Stats } | { ok: false; code: string; message: string };

/**
 * Reads a regular file of at most `maxBytes` without following untrusted links and without blocking: a FIFO,
 * a device, a directory or a huge file is refused with a one-line reason. A missing file is `code: "ENOENT"`.
 */
export function readRegularFile(path: string, maxBytes: number): ReadResult {
  let found: FoundFile | undefined;
  try {
    found = findFile(path);
    if (found.fd === undefined) return { ok: false, code: "ENOENT", message: `${path}: no such file or directory` };
    return { ok: true, text: readFound(found, maxBytes, path), info: found.info! };
  } catch (error) {
    return { ok: false, code: (error as PathError).code ?? "EIO", message: (error as Error).message };
  } finally {
    if (found) closeFound(found);
  }
}

function tooLarge(path: string, maxBytes: number) {
  return new PathError(`${path} is larger than ${Math.round(maxBytes / 1024)} KiB: refused`, "EFBIG");
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return "a FIFO";
  if (info.isDirectory()) return "a directory";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  if (info.isSocket()) return "a socket";
  return "not a regular file";
}

/** The text of a regular file (no untrusted link, no FIFO, capped), or undefined for anything else. */
export function readTextIfRegular(path: string, maxBytes: number = MAX_BYTES.target): string | undefined {
  const read = readRegularFile(path, maxBytes);
  return read.ok ? read.text : undefined;
}

/** The text of a regular file, or an Error naming the file and why not (for callers that report and go on). */
export function readTextOrThrow(path: string, maxBytes: number = MAX_BYTES.target): string {
  const read = readRegularFile(path, maxBytes);
  if (!read.ok) throw new Error(read.message);
  return read.text;
}
