import { lstat, mkdir, rmdir } from "node:fs/promises";

export interface LockOptions {
  staleMs: number;
  waitMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** Pure: may a lock directory with this mtime be taken over? */
export function isStale(mtimeMs: number, now: number, staleMs: number): boolean {
  return now - mtimeMs > staleMs;
}

/**
 * A mkdir lock (the Claude CLI's kind): the directory exists while it is held. One older than `staleMs` was left by
 * a killed holder and is taken over. Waits until `deadline` (epoch ms by `now`); false when still held then.
 */
export async function takeMkdirLock(path: string, options: LockOptions, deadline = options.now() + options.waitMs): Promise<boolean> {
  for (;;) {
    try {
      await mkdir(path, { mode: 0o700 });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    // lstat: a lock may live in a directory its user can write; never follow their link.
    const info = await lstat(path).catch(() => undefined);
    if (info && isStale(info.mtimeMs, options.now(), options.staleMs)) {
      await rmdir(path).catch(() => {});
      continue;
    }
    if (options.now() >= deadline) return false;
    await options.sleep(20 + Math.floor(Math.random() * 30));
  }
}
