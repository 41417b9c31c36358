import { describe, expect, test } from "bun:test";
import type { DirId } from "../../src/privilege/handover.ts";
import { covers, OwnerPool, type StartWorker, type Timers, type WorkerHandle } from "../../src/privilege/pool.ts";
import type { OwnerAnswer, OwnerRequest } from "../../src/privilege/protocol.ts";

const A = { uid: 1000, gid: 1000 };
const B = { uid: 1001, gid: 1001 };
const C = { uid: 1002, gid: 1002 };
const dir = (path: string, ino = 1): DirId => ({ path, dev: 7, ino });
const unlink = (path: string): OwnerRequest => ({ op: "unlink", path });

/** Timers the test moves by hand. */
function manualTimers() {
  let now = 0;
  const pending = new Map<number, { at: number; callback: () => void }>();
  let next = 1;
  const timers: Timers = {
    set: (callback, ms) => {
      pending.set(next, { at: now + ms, callback });
      return next++;
    },
    clear: (handle) => void pending.delete(handle as number),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const [id, timer] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > now) continue;
      pending.delete(id);
      timer.callback();
    }
  };
  return { timers, advance };
}

interface FakeWorker {
  owner: number;
  paths: string[];
  requests: OwnerRequest[];
  closed: boolean;
  /** Ended on its own (its owner killed it while idle). */
  died?: boolean;
  /** Requests waiting for the test to answer them (when `hold` is on). */
  held: ((result: Awaited<ReturnType<WorkerHandle["request"]>>) => void)[];
}

/** A starter whose workers answer at once (or when the test says), recording what each was handed and asked. */
function fakeStarter(options: { hold?: boolean; fail?: (request: OwnerRequest) => string | undefined; timeout?: (request: OwnerRequest) => boolean; refuse?: string; handedIno?: (path: string) => number } = {}) {
  const workers: FakeWorker[] = [];
  let live = 0;
  let peak = 0;
  let concurrent = 0;
  let peakConcurrentPerWorker = 0;
  const start: StartWorker = async (actor, paths) => {
    await Promise.resolve();
    if (options.refuse) return { ok: false, error: options.refuse };
    const worker: FakeWorker = { owner: actor.uid, paths, requests: [], closed: false, held: [] };
    workers.push(worker);
    peak = Math.max(peak, ++live);
    let busy = 0;
    const handle: WorkerHandle = {
      async request(request) {
        worker.requests.push(request);
        busy++;
        concurrent++;
        peakConcurrentPerWorker = Math.max(peakConcurrentPerWorker, busy);
        try {
          // Like the real one: an answer (or a fault) comes later, a fault ends the worker, and whatever else was
          // under way with it fails too.
          await Promise.resolve();
          if (worker.died) return { ok: false, fault: "acting as uid 1000: the worker ended" };
          const fault = options.fail?.(request);
          if (fault) {
            worker.died = true;
            return { ok: false, fault };
          }
          if (options.timeout?.(request)) {
            worker.died = true;
            return { ok: false, fault: "acting as uid 1000 timed out after 30 s", timedOut: true };
          }
          if (options.hold) return await new Promise((resolve) => worker.held.push(resolve));
          await Promise.resolve();
          if (worker.died) return { ok: false, fault: "acting as uid 1000: the worker ended" };
          return { ok: true, answer: { ok: true, written: "written" } };
        } finally {
          busy--;
          concurrent--;
        }
      },
      close() {
        if (!worker.closed) live--;
        worker.closed = true;
      },
      alive: () => !worker.closed && !worker.died,
    };
    return { ok: true, worker: handle, handed: paths.map((p) => dir(p, options.handedIno?.(p) ?? 1)) };
  };
  return { start, workers, stats: () => ({ live, peak, peakConcurrentPerWorker, concurrent }) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the owner pool", () => {
  test("one worker per owner serves all of that owner's requests, in order, at most 16 under way at once", async () => {
    const fake = fakeStarter();
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 4, idleMs: 60_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.run(A, [dir("/srv/oc")], unlink(`/srv/oc/agents/a${i}/x`))));
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(fake.workers).toHaveLength(1);
    expect(fake.workers[0]!.requests.map((r) => (r as { path: string }).path)).toEqual(Array.from({ length: 50 }, (_, i) => `/srv/oc/agents/a${i}/x`));
    expect(fake.stats().peakConcurrentPerWorker).toBeGreaterThan(1); // pipelined: the worker never waits on root
    expect(fake.stats().peakConcurrentPerWorker).toBeLessThanOrEqual(16);
  });

  test("no more than maxWorkers live at once; a waiting owner gets the slot its holder frees", async () => {
    const fake = fakeStarter({ hold: true });
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 2, idleMs: 60_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    const a = pool.run(A, [dir("/a")], unlink("/a/x"));
    const b = pool.run(B, [dir("/b")], unlink("/b/x"));
    const c = pool.run(C, [dir("/c")], unlink("/c/x"));
    await settle();
    expect(fake.workers.map((w) => w.owner)).toEqual([1000, 1001]);
    expect(pool.liveWorkers()).toBe(2);
    fake.workers[0]!.held.shift()!({ ok: true, answer: { ok: true } });
    expect(await a).toEqual({ ok: true });
    await settle();
    expect(fake.workers[0]!.closed).toBe(true); // retired: C was waiting
    expect(fake.workers.map((w) => w.owner)).toEqual([1000, 1001, 1002]);
    fake.workers[2]!.held.shift()!({ ok: true, answer: { ok: true } });
    fake.workers[1]!.held.shift()!({ ok: true, answer: { ok: true } });
    expect(await Promise.all([b, c])).toEqual([{ ok: true }, { ok: true }]);
    expect(fake.stats().peak).toBe(2);
  });

  test("owners that wait are let in one after the other as slots free up, never more at once than the bound", async () => {
    const fake = fakeStarter({ hold: true });
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 1, idleMs: 60_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    const answers = [A, B, C].map((actor) => pool.run(actor, [dir(`/${actor.uid}`)], unlink(`/${actor.uid}/x`)));
    for (const uid of [1000, 1001, 1002]) {
      await settle();
      expect(fake.workers.map((w) => w.owner)).toEqual([1000, 1001, 1002].filter((u) => u <= uid));
      expect(fake.stats().live).toBe(1);
      fake.workers.at(-1)!.held.shift()!({ ok: true, answer: { ok: true } });
    }
    expect(await Promise.all(answers)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(fake.stats().peak).toBe(1);
  });

  test("a flood from one owner does not hold up another owner's request", async () => {
    const fake = fakeStarter({ hold: true });
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 2, idleMs: 60_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    const flood = Array.from({ length: 100 }, (_, i) => pool.run(A, [dir("/a")], unlink(`/a/${i}`)));
    const other = pool.run(B, [dir("/b")], unlink("/b/x"));
    await settle();
    const workerB = fake.workers.find((w) => w.owner === 1001)!;
    workerB.held.shift()!({ ok: true, answer: { ok: true } });
    expect(await other).toEqual({ ok: true });
    const workerA = fake.workers.find((w) => w.owner === 1000)!;
    expect(workerA.requests.length).toBe(16); // the flood is still at its first requests
    for (let i = 0; i < 100; i++) {
      await settle();
      workerA.held.shift()!({ ok: true, answer: { ok: true } });
    }
    expect((await Promise.all(flood)).every((a) => a.ok)).toBe(true);
    expect(fake.workers).toHaveLength(2);
  });

  test("an idle worker stays for idleMs, then is closed; the next request starts a new one", async () => {
    const fake = fakeStarter();
    const clock = manualTimers();
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 4, idleMs: 600_000, requestTimeoutMs: 1000, timers: clock.timers });
    await pool.run(A, [dir("/a")], unlink("/a/1"));
    await settle();
    clock.advance(599_000);
    await pool.run(A, [dir("/a")], unlink("/a/2"));
    await settle();
    expect(fake.workers).toHaveLength(1);
    clock.advance(599_000);
    expect(fake.workers[0]!.closed).toBe(false); // the second request restarted the idle clock
    clock.advance(2_000);
    expect(fake.workers[0]!.closed).toBe(true);
    expect(pool.liveWorkers()).toBe(0);
    await pool.run(A, [dir("/a")], unlink("/a/3"));
    expect(fake.workers).toHaveLength(2);
  });

  test("with every slot idle, the least recently used worker makes room for a new owner", async () => {
    const fake = fakeStarter();
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 2, idleMs: 600_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    await pool.run(A, [dir("/a")], unlink("/a/1"));
    await pool.run(B, [dir("/b")], unlink("/b/1"));
    await pool.run(C, [dir("/c")], unlink("/c/1"));
    expect(fake.workers.map((w) => [w.owner, w.closed])).toEqual([[1000, true], [1001, false], [1002, false]]);
    expect(pool.liveWorkers()).toBe(2);
  });

  test("a worker that faults is dropped: what was under way with it fails with the reason, the next request gets a new worker", async () => {
    const fake = fakeStarter({ fail: (r) => ((r as { path: string }).path === "/a/bad" ? "acting as uid 1000: the worker answered garbage" : undefined) });
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 4, idleMs: 600_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    const [bad, alongside, other] = await Promise.all([
      pool.run(A, [dir("/a")], unlink("/a/bad")),
      pool.run(A, [dir("/a")], unlink("/a/2")),
      pool.run(B, [dir("/b")], unlink("/b/1")),
    ]);
    expect(bad).toEqual({ ok: false, error: "acting as uid 1000: the worker answered garbage" });
    expect(alongside.ok).toBe(false);
    expect(other.ok).toBe(true);
    expect((await pool.run(A, [dir("/a")], unlink("/a/3"))).ok).toBe(true);
    const ofA = fake.workers.filter((w) => w.owner === 1000);
    expect(ofA.map((w) => w.closed)).toEqual([true, false]);
    expect(fake.workers.filter((w) => w.owner === 1001)).toHaveLength(1);
  });

  test("a worker that timed out (its owner stopped it) fails that owner's queued requests at once, not after a timeout each", async () => {
    const fake = fakeStarter({ timeout: (r) => (r as { path: string }).path.startsWith("/a/") });
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 4, idleMs: 600_000, requestTimeoutMs: 30_000, timers: manualTimers().timers });
    const answers = await Promise.all([...Array.from({ length: 10 }, (_, i) => pool.run(A, [dir("/a")], unlink(`/a/${i}`))), pool.run(B, [dir("/b")], unlink("/b/1"))]);
    expect(answers.slice(0, 10).every((a) => !a.ok)).toBe(true);
    expect((answers[0] as { error: string }).error).toBe("acting as uid 1000 timed out after 30 s");
    expect(answers.slice(1, 10).every((a) => !a.ok && /timed out|ended/.test(a.error))).toBe(true);
    expect(fake.workers.filter((w) => w.owner === 1000)).toHaveLength(1); // no second worker, no second wait
    expect(answers[10]).toEqual({ ok: true, written: "written" });
    expect((await pool.run(A, [dir("/a")], { op: "mkdir", path: "/a" })).ok).toBe(true); // the next pass tries again
  });

  test("a worker that ended while idle is replaced before the next request, which does not fail for it", async () => {
    const fake = fakeStarter();
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 4, idleMs: 600_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    await pool.run(A, [dir("/a")], unlink("/a/1"));
    fake.workers[0]!.died = true;
    expect(await pool.run(A, [dir("/a")], unlink("/a/2"))).toEqual({ ok: true, written: "written" });
    expect(fake.workers).toHaveLength(2);
    expect(fake.workers[0]!.requests).toHaveLength(1);
  });

  test("a worker that cannot start fails all of that owner's queued requests once, not once each", async () => {
    let starts = 0;
    const refusing = fakeStarter({ refuse: "cannot act as uid 1000: no such user" });
    const start: StartWorker = (actor, paths) => {
      starts++;
      return refusing.start(actor, paths);
    };
    const pool = new OwnerPool({ start, maxWorkers: 4, idleMs: 600_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(A, [dir("/a")], unlink(`/a/${i}`))));
    expect(answers.every((a) => !a.ok && a.error === "cannot act as uid 1000: no such user")).toBe(true);
    expect(starts).toBe(1);
    expect(pool.liveWorkers()).toBe(0);
  });

  test("a directory recreated at the same path (another inode) replaces the worker; a new directory adds to what it holds", async () => {
    const fake = fakeStarter({ handedIno: (path) => (path === "/a" ? inoOfA : 1) });
    let inoOfA = 1;
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 4, idleMs: 600_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    await pool.run(A, [dir("/a", 1)], unlink("/a/1"));
    await pool.run(A, [dir("/a", 1)], unlink("/a/2"));
    expect(fake.workers).toHaveLength(1);
    inoOfA = 2; // the state dir was removed and made again
    await pool.run(A, [dir("/a", 2)], unlink("/a/3"));
    expect(fake.workers).toHaveLength(2);
    expect(fake.workers[0]!.closed).toBe(true);
    await pool.run(A, [dir("/home/a", 1)], unlink("/home/a/x"));
    expect(fake.workers).toHaveLength(3);
    expect(fake.workers[2]!.paths.sort()).toEqual(["/a", "/home/a"]);
  });

  test("a directory that changes again between the look and the start fails only that request", async () => {
    const fake = fakeStarter({ handedIno: () => 9 });
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 4, idleMs: 600_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    const answer = (await pool.run(A, [dir("/a", 1)], unlink("/a/1"))) as Extract<OwnerAnswer, { ok: false }>;
    expect(answer.ok).toBe(false);
    expect(answer.error).toContain("/a changed while oauth-sync looked");
    expect((await pool.run(A, [dir("/a", 9)], unlink("/a/2"))).ok).toBe(true);
  });

  test("close ends every worker and answers what still waits", async () => {
    const fake = fakeStarter({ hold: true });
    const pool = new OwnerPool({ start: fake.start, maxWorkers: 1, idleMs: 600_000, requestTimeoutMs: 1000, timers: manualTimers().timers });
    void pool.run(A, [dir("/a")], unlink("/a/1"));
    const waiting = pool.run(B, [dir("/b")], unlink("/b/1"));
    await settle();
    pool.close();
    expect(await waiting).toEqual({ ok: false, error: "oauth-sync is stopping" });
    expect(fake.workers.every((w) => w.closed)).toBe(true);
  });
});

describe("covers", () => {
  test("every needed directory handed, by path, device and inode", () => {
    expect(covers([dir("/a"), dir("/b")], [dir("/a")])).toBe(true);
    expect(covers([dir("/a")], [dir("/a"), dir("/b")])).toBe(false);
    expect(covers([dir("/a", 1)], [dir("/a", 2)])).toBe(false);
    expect(covers([], [])).toBe(true);
  });
});
