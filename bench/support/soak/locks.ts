import { mkdir, open, unlink } from "node:fs/promises";
import { join } from "node:path";

export async function sh(argv: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: (out + err).trim() };
}

async function must(argv: string[]) {
  const result = await sh(argv);
  if (result.code !== 0) throw new Error(`${argv.join(" ")}: exit ${result.code}: ${result.output}`);
}

/** How a file or directory is made unwritable, even for root: `chattr +i`, else a read-only bind mount on itself. */
export type LockMethod = "chattr" | "ro-bind";

export async function lock(path: string, method: LockMethod): Promise<void> {
  if (method === "chattr") return must(["chattr", "+i", path]);
  await must(["mount", "--bind", path, path]);
  await must(["mount", "-o", "remount,bind,ro", path]).catch(async (error) => {
    await sh(["umount", path]);
    throw error;
  });
}

const UNMOUNT_TRIES_MS = 10_000;

/**
 * umount, tried again for up to UNMOUNT_TRIES_MS while it says "target is busy" (exit 32): the service may have a file
 * under the mount open just then (the pass that wrote it, a write it tries again). The last answer.
 */
export async function unmountWhenFree(path: string): Promise<{ code: number; output: string }> {
  const until = Date.now() + UNMOUNT_TRIES_MS;
  for (;;) {
    const result = await sh(["umount", path]);
    if (result.code !== 32 || Date.now() > until) return result;
    await Bun.sleep(100);
  }
}

export async function unlock(path: string, method: LockMethod): Promise<void> {
  if (method === "chattr") return must(["chattr", "-i", path]);
  const result = await unmountWhenFree(path);
  if (result.code !== 0) throw new Error(`umount ${path}: exit ${result.code}: ${result.output}`);
}

/** Which lock works on `path` here: tried once (locked and unlocked), or why none does. */
export async function probeLock(path: string): Promise<{ ok: true; method: LockMethod } | { ok: false; reason: string }> {
  const reasons: string[] = [];
  for (const method of ["chattr", "ro-bind"] as const) {
    try {
      await lock(path, method);
      await unlock(path, method);
      return { ok: true, method };
    } catch (error) {
      reasons.push(`${method}: ${(error as Error).message}`);
    }
  }
  return { ok: false, reason: reasons.join("; ") };
}

/** A small tmpfs that can be filled to the last byte: the full-disk fault. */
export async function mountSmallTmpfs(dir: string, sizeKb = 256): Promise<{ ok: true } | { ok: false; reason: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const result = await sh(["mount", "-t", "tmpfs", "-o", `size=${sizeKb}k,mode=0700`, "oauth-sync-soak", dir]);
  return result.code === 0 ? { ok: true } : { ok: false, reason: `mount -t tmpfs: exit ${result.code}: ${result.output}` };
}

/** Fills the filesystem of `dir` until ENOSPC; returns the bytes written. */
export async function fill(dir: string): Promise<number> {
  const file = await open(join(dir, "filler"), "a");
  const chunk = Buffer.alloc(4096, 0x61);
  let written = 0;
  try {
    for (;;) written += (await file.write(chunk)).bytesWritten;
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOSPC") throw error;
  } finally {
    await file.close();
  }
  // A part of a page may be left: fill that too, byte by byte, up to a page.
  const tail = await open(join(dir, "filler-tail"), "a");
  try {
    for (let i = 0; i < 4096; i++) written += (await tail.write(Buffer.from("a"))).bytesWritten;
  } catch {
    // full
  } finally {
    await tail.close();
  }
  return written;
}

export async function unfill(dir: string): Promise<void> {
  await unlink(join(dir, "filler")).catch(() => {});
  await unlink(join(dir, "filler-tail")).catch(() => {});
}
