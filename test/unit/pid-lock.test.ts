import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { holderLine, lockIsStale, parseHolder, processStart, takePidLock, thisProcess, type HolderProbe } from "../../src/fs/pid-lock.ts";

/** The lock between processes (src/fs/pid-lock.ts): the stale rule pure with a probe, the file lock on a real directory. */

const root = mkdtempSync(join(tmpdir(), "oauth-sync-pid-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const dir = join(root, `d${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
};

const probe = (alive: boolean, start?: string): HolderProbe => ({ alive: () => alive, start: () => start });
const SECOND = 1000;

describe("lockIsStale (pure)", () => {
  const holder = { pid: 4242, start: "98765" };
  test("a live holder that started when its line says holds it until the lock is older than staleMs", () => {
    expect(lockIsStale(holder, 1 * SECOND, 10 * SECOND, probe(true, "98765"))).toBe(false);
    expect(lockIsStale(holder, 10 * SECOND, 10 * SECOND, probe(true, "98765"))).toBe(false);
    expect(lockIsStale(holder, 10 * SECOND + 1, 10 * SECOND, probe(true, "98765"))).toBe(true);
  });
  test("a holder gone, or its pid now another process's (another start time): taken over at once", () => {
    expect(lockIsStale(holder, 0, 10 * SECOND, probe(false))).toBe(true);
    expect(lockIsStale(holder, 0, 10 * SECOND, probe(true, "11111"))).toBe(true);
  });
  test("a live pid whose start cannot be read (another user's process, hidden by ProtectProc) holds it", () => {
    expect(lockIsStale(holder, 0, 10 * SECOND, probe(true, undefined))).toBe(false);
    expect(lockIsStale({ pid: 4242, start: "" }, 0, 10 * SECOND, probe(true, "98765"))).toBe(false);
  });
  test("no holder line yet (created, not written): held for a short grace, then judged by age alone", () => {
    expect(lockIsStale(undefined, 1 * SECOND, 10 * SECOND, probe(true))).toBe(false);
    expect(lockIsStale(undefined, 3 * SECOND, 10 * SECOND, probe(true))).toBe(true);
  });
  test("the holder line", () => {
    expect(parseHolder(holderLine(holder))).toEqual(holder);
    expect(parseHolder("4242 \n")).toEqual({ pid: 4242, start: "" });
    for (const text of ["", "4242", "0 1\n", "x 1\n", "4242 1\nmore"]) expect(parseHolder(text)).toBeUndefined();
    expect(processStart("self")).toBe(processStart(process.pid));
    expect(thisProcess()).toEqual({ pid: process.pid, start: processStart("self")! });
  });
});

describe("takePidLock", () => {
  const fast = { waitMs: 300, staleMs: 10 * SECOND };

  test("taken, named by its holder, waited for while held, removed at release", async () => {
    const dir = fresh();
    const first = await takePidLock(dir, "x.lock", fast);
    expect(first.taken).toBe(true);
    expect(readFileSync(join(dir, "x.lock"), "utf8")).toBe(holderLine(thisProcess()));
    const started = Date.now();
    const second = await takePidLock(dir, "x.lock", fast);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(second).toMatchObject({ taken: false, reason: "held", holder: thisProcess() });
    if (first.taken) first.release();
    expect(existsSync(join(dir, "x.lock"))).toBe(false);
    const third = await takePidLock(dir, "x.lock", fast);
    expect(third.taken).toBe(true);
    if (third.taken) third.release();
  });

  test("a lock whose holder was killed is taken over at once, and so is one naming a pid now another process's", async () => {
    const dir = fresh();
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    writeFileSync(join(dir, "x.lock"), holderLine({ pid: gone.pid, start: "1" }));
    const started = Date.now();
    const taken = await takePidLock(dir, "x.lock", fast);
    expect(taken.taken).toBe(true);
    expect(Date.now() - started).toBeLessThan(200);
    if (taken.taken) taken.release();
    writeFileSync(join(dir, "x.lock"), holderLine({ pid: process.pid, start: "1" }));
    const reused = await takePidLock(dir, "x.lock", fast);
    expect(reused.taken).toBe(true);
    if (reused.taken) reused.release();
    expect(existsSync(join(dir, "x.lock.break"))).toBe(false);
  });

  test("a lock older than staleMs is taken over whoever holds it; a breaker left by a killed process is cleared", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "x.lock"), holderLine(thisProcess()));
    const old = new Date(Date.now() - 20 * SECOND);
    utimesSync(join(dir, "x.lock"), old, old);
    writeFileSync(join(dir, "x.lock.break"), holderLine({ pid: 1, start: "" }));
    utimesSync(join(dir, "x.lock.break"), old, old);
    const taken = await takePidLock(dir, "x.lock", { waitMs: 2 * SECOND, staleMs: 10 * SECOND });
    expect(taken.taken).toBe(true);
    if (taken.taken) taken.release();
    expect(existsSync(join(dir, "x.lock.break"))).toBe(false);
  });

  test("a wait that lasts is said once, naming the holder; a short one is not", async () => {
    const dir = fresh();
    const held = await takePidLock(dir, "x.lock", fast);
    const said: unknown[] = [];
    expect(await takePidLock(dir, "x.lock", { ...fast, onLongWait: (holder) => said.push(holder) })).toMatchObject({ taken: false });
    expect(said).toEqual([]);
    expect(await takePidLock(dir, "x.lock", { waitMs: 1500, staleMs: 10 * SECOND, pollMs: 100, onLongWait: (holder) => said.push(holder) })).toMatchObject({ taken: false });
    expect(said).toEqual([thisProcess()]);
    if (held.taken) held.release();
  });

  test("a lock this process released but could not remove (its directory turned read-only) is taken at once, not waited for", async () => {
    const dir = fresh();
    const first = await takePidLock(dir, "x.lock", fast);
    if (first.taken) first.release();
    // What a release whose unlink failed leaves: this process's own line.
    writeFileSync(join(dir, "x.lock"), holderLine(thisProcess()));
    const started = Date.now();
    const again = await takePidLock(dir, "x.lock", { waitMs: 5 * SECOND, staleMs: 60 * SECOND });
    expect(again.taken).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    // While it is held, the same line is this process's live lock: waited for.
    expect(await takePidLock(dir, "x.lock", fast)).toMatchObject({ taken: false, reason: "held" });
    if (again.taken) again.release();
  });

  test("waiting ends when the caller is stopping", async () => {
    const dir = fresh();
    const held = await takePidLock(dir, "x.lock", fast);
    let stopping = false;
    setTimeout(() => (stopping = true), 50);
    expect(await takePidLock(dir, "x.lock", { waitMs: 10 * SECOND, staleMs: 60 * SECOND, cancelled: () => stopping })).toEqual({ taken: false, reason: "cancelled" });
    if (held.taken) held.release();
  });

  test("a release after the lock was taken over (its holder judged stale) leaves the new holder's lock alone", async () => {
    const dir = fresh();
    const mine = await takePidLock(dir, "x.lock", fast);
    const other = holderLine({ pid: 1, start: "1" });
    writeFileSync(join(dir, "x.lock"), other);
    if (mine.taken) mine.release();
    expect(readFileSync(join(dir, "x.lock"), "utf8")).toBe(other);
  });

  test("a directory where no lock can be made: a throw that names the lock", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "a-file"), "");
    await expect(takePidLock(join(dir, "a-file/state"), "x.lock", fast)).rejects.toThrow(`cannot take the lock ${join(dir, "a-file/state")}/x.lock`);
  });
});
