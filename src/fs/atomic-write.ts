import { open, rename, unlink, mkdir, stat, readFile, readlink, realpath } from "node:fs/promises";
import { dirname, basename, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { isCode } from "./errors.ts";

export type WriteMode = "atomic" | "in-place";
export type WriteOutcome = "written" | "unchanged";

export interface WriteOptions {
  /** "atomic": temp file + rename (default). "in-place": rewrite the same inode, for a file bind-mounted on its own. */
  mode?: WriteMode;
  /** Mode for a file that does not exist yet. An existing file keeps its own. */
  newFileMode?: number;
}

/**
 * Write `data` to `path` so that a reader sees either the old or the new content, never a mix:
 * temp file in the same directory, fsync, rename, fsync of the directory.
 * Keeps an existing file's owner, group and mode; skips the write when the bytes are identical.
 */
export async function writeFileAtomic(path: string, data: string, options: WriteOptions = {}): Promise<WriteOutcome> {
  const target = await resolveLink(path);
  const existing = await stat(target).catch((error) => (isMissing(error) ? undefined : Promise.reject(error)));
  if (existing) {
    const current = await readFile(target, "utf8");
    if (current === data) return "unchanged";
  } else {
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  }
  const fileMode = existing ? existing.mode & 0o7777 : (options.newFileMode ?? 0o600);
  const owner = existing ? { uid: existing.uid, gid: existing.gid } : undefined;
  if (options.mode === "in-place" && existing) await rewriteInPlace(target, data);
  else await replaceByRename(target, data, fileMode, owner);
  return "written";
}

async function replaceByRename(target: string, data: string, fileMode: number, owner?: { uid: number; gid: number }) {
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.oauth-sync-${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(data, "utf8");
    if (owner) await handle.chown(owner.uid, owner.gid).catch(ignoreIfNotPermitted);
    await handle.chmod(fileMode);
    await handle.sync();
    await handle.close();
    await rename(temp, target);
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await syncDirectory(dir);
}

/** Same inode, so a container that bind-mounted this one file sees the change. Readers may see a partial write. */
async function rewriteInPlace(target: string, data: string) {
  const handle = await open(target, "r+");
  try {
    const bytes = Buffer.from(data, "utf8");
    await handle.write(bytes, 0, bytes.length, 0);
    await handle.truncate(bytes.length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string) {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on a directory; the rename itself has still happened.
    if (!isCode(error, "EINVAL") && !isCode(error, "EISDIR")) throw error;
  } finally {
    await handle.close();
  }
}

/** Writing through a symlink keeps the link and replaces what it points at, even when that does not exist yet. */
async function resolveLink(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (!isMissing(error)) throw error;
    // A dangling link: follow it by hand, or the rename would replace the link itself with a plain file.
    const link = await readlink(path).catch(() => undefined);
    return link === undefined ? path : resolveLink(resolve(dirname(path), link));
  }
}

function ignoreIfNotPermitted(error: unknown) {
  if (!isCode(error, "EPERM")) throw error;
}


function isMissing(error: unknown): boolean {
  return isCode(error, "ENOENT");
}
