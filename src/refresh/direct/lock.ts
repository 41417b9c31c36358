import { rmdir, lutimes } from "node:fs/promises";
import { takeMkdirLock, type LockOptions } from "../../fs/mkdir-lock.ts";

export { isStale, type LockOptions } from "../../fs/mkdir-lock.ts";
import { join } from "node:path";

/**
 * The CLI's own refresh locks (2.1.330): mkdir lock directories `CONFIGDIR/.oauth_refresh.lock`, then `CONFIGDIR.lock`
 * beside the config dir, taken in that order. A lock whose mtime is older than the stale time is abandoned (a
 * killed holder) and may be taken over; a live holder keeps its mtime fresh, and so do we.
 */
export function cliLockPaths(configDir: string): string[] {
  return [join(configDir, ".oauth_refresh.lock"), `${configDir}.lock`];
}

export type Held = { ok: true; release: () => Promise<void>; waitedMs: number } | { ok: false; message: string };

/** Take both CLI locks, or none: a failure releases what was taken. */
export async function takeCliLocks(configDir: string, options: LockOptions): Promise<Held> {
  const started = options.now();
  const deadline = started + options.waitMs;
  const taken: string[] = [];
  const release = async () => {
    clearInterval(keepFresh);
    for (const path of taken.reverse()) await rmdir(path).catch(() => {});
    taken.length = 0;
  };
  const keepFresh = setInterval(() => {
    const t = new Date();
    for (const path of taken) void lutimes(path, t, t).catch(() => {});
  }, Math.max(500, options.staleMs / 2));
  try {
    for (const path of cliLockPaths(configDir)) {
      if (!(await takeMkdirLock(path, options, deadline))) {
        await release();
        return { ok: false, message: `${path} is held by another process (the Claude CLI?) for more than ${Math.round(options.waitMs / 1000)} s` };
      }
      taken.push(path);
    }
  } catch (error) {
    await release();
    return { ok: false, message: `cannot take the CLI lock: ${(error as Error).message}` };
  }
  return { ok: true, release, waitedMs: options.now() - started };
}
