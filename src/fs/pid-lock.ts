import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { errnoDetail, isCode } from "./errors.ts";
import { requireOwnPlace } from "./place.ts";
import { O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK, at, openDir } from "./walk.ts";

/**
 * A lock between processes on one host, without FFI (no flock: the service runs without the JIT and with no native
 * calls of its own): a file created with O_EXCL that names its holder, `PID START` (START: the process's start time
 * in clock ticks after boot, /proc/PID/stat field 22, so a pid used again by another process is told apart). It is
 * taken over when its holder is gone, and whatever the holder when it is older than `staleMs` (a holder stuck, or one
 * this process cannot see: ProtectProc=invisible hides other users' processes, so liveness is asked with kill(pid, 0),
 * which it does not hide). Taking over a stale lock is itself done under a second O_EXCL file (`NAME.break`), so two
 * processes that both found it stale cannot both take it (one would unlink the lock the other just made).
 */

export interface Holder {
  pid: number;
  /** Start time in clock ticks after boot; "" where it could not be read. */
  start: string;
}

export interface HolderProbe {
  /** Does a process with this pid exist (kill(pid, 0) did not say ESRCH)? */
  alive(pid: number): boolean;
  /** Its start time (/proc/PID/stat field 22), undefined where it cannot be read. */
  start(pid: number): string | undefined;
}

export interface PidLockOptions {
  /** Give up waiting for a live holder after this long (epoch ms by `now`). */
  waitMs: number;
  /** A lock this old is taken over whoever holds it. */
  staleMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Look again at most this far apart while waiting (default 25 ms; from 5 ms, doubling). */
  pollMs?: number;
  /** Stop waiting (the service is stopping): the lock is not taken. */
  cancelled?: () => boolean;
  /** Called once when a live holder has kept the caller waiting LONG_WAIT_MS (a person may be watching a verb). */
  onLongWait?: (holder: Holder | undefined) => void;
  probe?: HolderProbe;
  /** Who takes it (default: this process). */
  self?: Holder;
}

export type LockAttempt = { taken: true; release: () => void } | { taken: false; reason: "held"; holder?: Holder; ageMs: number } | { taken: false; reason: "cancelled" };

/** A wait this long is said (onLongWait); a shorter one is two processes meeting, not worth a line. */
export const LONG_WAIT_MS = 1000;
/** A lock file caught between its creation and its holder's line: this long, then judged by its age alone. */
const UNWRITTEN_GRACE_MS = 2000;
/** A `.break` file older than this was left by a process killed while taking over a lock (it holds it microseconds). */
const BREAK_STALE_MS = 2000;

export function processStart(pid: number | "self"): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Field 2 (comm) is in parentheses and may hold spaces: count from the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

export const realProbe: HolderProbe = {
  alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return !isCode(error, "ESRCH");
    }
  },
  start: (pid) => processStart(pid),
};

/**
 * The locks this process holds now ("dir/name holder"). A lock file that names this process but is not among them was
 * released by it without being removed (its directory turned read-only meanwhile): it is taken over at once, not
 * waited for until it is stale.
 */
const heldHere = new Set<string>();

let me: Holder | undefined;
export function thisProcess(): Holder {
  me ??= { pid: process.pid, start: processStart("self") ?? "" };
  return me;
}

export const holderLine = (holder: Holder) => `${holder.pid} ${holder.start}\n`;

export function parseHolder(text: string): Holder | undefined {
  const match = /^(\d+) (\d*)\n$/.exec(text);
  const pid = match ? Number(match[1]) : 0;
  return pid > 0 ? { pid, start: match![2]! } : undefined;
}

/**
 * Pure: may a lock `ageMs` old, held by `holder` (undefined: no holder line yet, or not one of ours), be taken over?
 * Its holder is gone, or the pid now belongs to a process that started at another time, or it is older than
 * `staleMs` (a line not written yet counts from a short grace).
 */
export function lockIsStale(holder: Holder | undefined, ageMs: number, staleMs: number, probe: HolderProbe): boolean {
  if (ageMs > staleMs) return true;
  if (!holder) return ageMs > UNWRITTEN_GRACE_MS;
  if (!probe.alive(holder.pid)) return true;
  const start = holder.start ? probe.start(holder.pid) : undefined;
  return start !== undefined && start !== holder.start;
}

/**
 * Take the lock `name` in directory `dir` (a place of ours, created if missing), waiting up to `waitMs` for a live
 * holder. A lock that cannot be made at all (a read-only directory) throws, naming it.
 */
export async function takePidLock(dir: string, name: string, options: PidLockOptions): Promise<LockAttempt> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms));
  const probe = options.probe ?? realProbe;
  const self = options.self ?? thisProcess();
  const began = now();
  const deadline = began + options.waitMs;
  let told = false;
  let opened;
  try {
    opened = openDir(dir, { create: true, check: requireOwnPlace });
  } catch (error) {
    throw new Error(`cannot take the lock ${join(dir, name)}: ${errnoDetail(error)}`, { cause: error });
  }
  const fd = opened.fd;
  let taken = false;
  let looks = 0;
  const key = `${resolve(dir, name)} ${holderLine(self).trim()}`;
  const leftByUs = (seen: Seen) => seen.text === holderLine(self) && !heldHere.has(key);
  const stale = (seen: Seen) => leftByUs(seen) || lockIsStale(seen.holder, seen.ageMs, options.staleMs, probe);
  try {
    for (;;) {
      if (tryCreate(fd, dir, name, self)) {
        taken = true;
        heldHere.add(key);
        let released = false;
        return {
          taken: true,
          release: () => {
            if (released) return;
            released = true;
            heldHere.delete(key);
            release(fd, name, self);
          },
        };
      }
      const seen = look(fd, name, now());
      if (seen && stale(seen)) {
        breakStale(fd, dir, name, seen, { stale, now, self });
        continue;
      }
      if (options.cancelled?.()) return { taken: false, reason: "cancelled" };
      if (now() >= deadline) return { taken: false, reason: "held", holder: seen?.holder, ageMs: seen?.ageMs ?? 0 };
      if (!told && now() - began >= LONG_WAIT_MS) {
        told = true;
        options.onLongWait?.(seen?.holder);
      }
      const pause = Math.min(options.pollMs ?? 25, 5 * 2 ** Math.min(looks++, 10));
      await sleep(pause / 2 + Math.random() * (pause / 2));
    }
  } finally {
    if (!taken) closeSync(fd);
  }
}

/** True: made, with our line in it. False: one exists. */
function tryCreate(dirFd: number, dir: string, name: string, self: Holder): boolean {
  let lock: number;
  try {
    lock = openSync(at(dirFd, name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
  } catch (error) {
    if (isCode(error, "EEXIST")) return false;
    throw new Error(`cannot take the lock ${join(dir, name)}: ${errnoDetail(error)}`, { cause: error });
  }
  try {
    writeSync(lock, holderLine(self));
  } finally {
    closeSync(lock);
  }
  return true;
}

interface Seen {
  holder?: Holder;
  ageMs: number;
  ino: number;
  text: string;
}

/** The lock as it is now; undefined when it is gone (or is no regular file: then O_EXCL fails and the wait runs out). */
function look(dirFd: number, name: string, now: number): Seen | undefined {
  let file: number;
  try {
    file = openSync(at(dirFd, name), constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(file);
    if (!info.isFile()) return undefined;
    const buffer = Buffer.alloc(64);
    const text = buffer.toString("latin1", 0, readSync(file, buffer, 0, 64, 0));
    return { holder: parseHolder(text), ageMs: now - info.mtimeMs, ino: info.ino, text };
  } catch {
    return undefined;
  } finally {
    closeSync(file);
  }
}

/** Under `NAME.break`: the lock is looked at again and removed only if it is still the stale one. */
function breakStale(dirFd: number, dir: string, name: string, seen: Seen, how: { stale: (seen: Seen) => boolean; now: () => number; self: Holder }): void {
  const breaker = `${name}.break`;
  if (!tryCreate(dirFd, dir, breaker, how.self)) {
    const other = look(dirFd, breaker, how.now());
    if (other && other.ageMs > BREAK_STALE_MS) unlinkQuietly(dirFd, breaker);
    return;
  }
  try {
    const again = look(dirFd, name, how.now());
    if (again && again.ino === seen.ino && again.text === seen.text && how.stale(again)) unlinkQuietly(dirFd, name);
  } finally {
    unlinkQuietly(dirFd, breaker);
  }
}

/** Ours is removed; a lock taken over meanwhile (we were judged stale) is someone else's and stays. */
function release(dirFd: number, name: string, self: Holder): void {
  try {
    const now = look(dirFd, name, Date.now());
    if (now && now.text === holderLine(self)) unlinkQuietly(dirFd, name);
  } finally {
    closeSync(dirFd);
  }
}

function unlinkQuietly(dirFd: number, name: string): void {
  try {
    unlinkSync(at(dirFd, name));
  } catch {
    // gone already
  }
}
