import { closeSync, fchmodSync, fchownSync, fsyncSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync, constants } from "node:fs";
import { randomBytes } from "node:crypto";
import { closeFound, findFile, MAX_BYTES, readFound } from "./open-file.ts";
import { O_CLOEXEC, O_NOFOLLOW, PathError, at } from "./walk.ts";
import { isCode } from "./errors.ts";
import { requireOwnPlace } from "./place.ts";

export type WriteMode = "atomic" | "in-place";
export type WriteOutcome = "written" | "unchanged";

export interface WriteOptions {
  /** "atomic": temp file + rename (default). "in-place": rewrite the same inode, for a file bind-mounted on its own. */
  mode?: WriteMode;
  /** Mode for a file that does not exist yet. An existing file keeps its own. */
  newFileMode?: number;
  /** Largest existing file read for the unchanged check. */
  maxBytes?: number;
}

/**
 * Write `data` to `path` so that a reader sees either the old or the new content, never a mix:
 * temp file in the same directory, fsync, rename, fsync of the directory.
 * Keeps an existing file's owner, group and mode; skips the write when the bytes are identical.
 * Every lookup goes through the directory opened without following links (src/fs/walk.ts): a symlink, FIFO or
 * device at the name is refused, and nothing swapped in after the check can redirect the write.
 */
export async function writeFileAtomic(path: string, data: string, options: WriteOptions = {}): Promise<WriteOutcome> {
  const found = findFile(path, { createParents: true, check: requireOwnPlace });
  try {
    requireOwnPlace(found.dir.chain, found.dir.path);
    sweepStranded(found.dir.fd, found.dir.path);
    if (found.fd !== undefined && readFound(found, options.maxBytes ?? MAX_BYTES.target, path) === data) return "unchanged";
    const info = found.info;
    if (options.mode === "in-place" && found.fd !== undefined && info) {
      if (info.nlink > 1) throw new PathError(`${path} has ${info.nlink} hard links: in-place mode would write through all of them; not touched`, "EMLINK");
      rewriteInPlace(found.fd, data);
    } else {
      const fileMode = info ? info.mode & 0o7777 : (options.newFileMode ?? 0o600);
      replaceByRename(found.dir.fd, found.dir.path, found.name, data, fileMode, info && { uid: info.uid, gid: info.gid });
    }
    return "written";
  } finally {
    closeFound(found);
  }
}

function replaceByRename(dirFd: number, dirPath: string, name: string, data: string, fileMode: number, owner?: { uid: number; gid: number }) {
  const temp = tempName(name);
  const fd = openSync(at(dirFd, temp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
  try {
    writeAll(fd, data);
    if (owner) ignoreIfNotPermitted(() => fchownSync(fd, owner.uid, owner.gid));
    fchmodSync(fd, fileMode);
    fsyncSync(fd);
    closeSync(fd);
  } catch (error) {
    closeQuietly(fd);
    removeOrRemember(dirFd, dirPath, temp);
    throw error;
  }
  try {
    renameSync(at(dirFd, temp), at(dirFd, name));
  } catch (error) {
    removeOrRemember(dirFd, dirPath, temp);
    throw error;
  }
  syncDirectory(dirFd);
}

/** The temp files this writer leaves behind only when killed: `.<name>.oauth-sync-<hex>.tmp`. */
export function tempName(name: string): string {
  return `.${name}.oauth-sync-${randomBytes(6).toString("hex")}.tmp`;
}

/** Same inode, so a container that bind-mounted this one file sees the change. Readers may see a partial write. */
function rewriteInPlace(pathFd: number, data: string) {
  const fd = openSync(`/proc/self/fd/${pathFd}`, constants.O_WRONLY | O_CLOEXEC);
  try {
    writeAll(fd, data);
    ftruncateSync(fd, Buffer.byteLength(data, "utf8"));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, data: string) {
  const bytes = Buffer.from(data, "utf8");
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset, offset);
}

function syncDirectory(dirFd: number) {
  try {
    fsyncSync(dirFd);
  } catch (error) {
    // Some filesystems refuse fsync on a directory (or on an O_RDONLY one); the rename itself has still happened.
    if (!isCode(error, "EINVAL") && !isCode(error, "EISDIR") && !isCode(error, "EBADF")) throw error;
  }
}

function ignoreIfNotPermitted(action: () => void) {
  try {
    action();
  } catch (error) {
    if (!isCode(error, "EPERM")) throw error;
  }
}

function closeQuietly(fd: number) {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * Temp files of ours that could not be removed when their write failed (the directory turned immutable or read-only
 * between the temp file's creation and the rename), by directory: removed at the next write into that directory.
 * A process killed before that leaves them to start-up's clean-up (src/targets/leftovers.ts).
 */
const stranded = new Map<string, Set<string>>();
const STRANDED_MAX = 10_000;

function removeOrRemember(dirFd: number, dirPath: string, temp: string) {
  if (unlinkQuietly(at(dirFd, temp))) return;
  const names = stranded.get(dirPath) ?? new Set<string>();
  if (names.size < STRANDED_MAX) names.add(temp);
  stranded.set(dirPath, names);
}

function sweepStranded(dirFd: number, dirPath: string) {
  const names = stranded.get(dirPath);
  if (!names) return;
  for (const temp of names) if (unlinkQuietly(at(dirFd, temp))) names.delete(temp);
  if (names.size === 0) stranded.delete(dirPath);
}

/** True when the file is gone (removed now, or not there). */
function unlinkQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    return isCode(error, "ENOENT");
  }
}
