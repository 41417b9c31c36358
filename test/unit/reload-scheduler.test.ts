import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { changeMark, createReloadScheduler, reloadFor, reloadOwed } from "../../src/gateway/scheduler.ts";
import type { ReloadResult } from "../../src/gateway/types.ts";
import type { RunResult } from "../../src/process/run.ts";
import { fakeClock } from "../support/fake-clock.ts";
import { waitUntil } from "../support/wait.ts";

/** The reload scheduler with a `command` gateway whose runs the test ends by hand; the state file is real. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "oauth-sync-reload-scheduler-"));
  dirs.push(dir);
  const parsed = parseConfig(
    JSON.stringify({ credentials: join(dir, "c.json"), stateDir: join(dir, "state"), targets: [{ kind: "env-file", path: join(dir, ".env") }], gateway: { kind: "command", command: ["reload-it"], settleSeconds: 0 } }),
    join(dir, "config.json"),
  );
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const runs: Array<(result: RunResult) => void> = [];
  const scheduler = createReloadScheduler(parsed.config, {
    run: () => new Promise<RunResult>((resolve) => runs.push(resolve)),
    now: Date.now,
    sleep: async () => {},
    random: () => 0.5,
  });
  const pending = () => JSON.parse(readFileSync(join(dir, "state/state.json"), "utf8")).gateway.pending;
  const until = (what: string, condition: () => boolean) => waitUntil(what, condition, { timeoutMs: 1000, intervalMs: 5, onTimeout: "continue" });
  return { scheduler, runs, pending, until };
}

const ok: RunResult = { code: 0, stdout: "", stderr: "", timedOut: false };

describe("the reload debt", () => {
  test("a change that comes in while a reload runs stays owed when that reload succeeds, until its own reload ran", async () => {
    const { scheduler, runs, pending, until } = setup();
    try {
      await scheduler.request({ since: await scheduler.mark() });
      await until("the first reload started", () => runs.length === 1);
      expect(pending()).toBe(true);
      // A second change while the first reload runs.
      await scheduler.request({ since: await scheduler.mark() });
      runs[0]!(ok);
      await until("the second reload started", () => runs.length === 2);
      expect(runs).toHaveLength(2);
      // The first reload succeeded, but the second change's reload has not run to its end: still owed (a service
      // stopped now pays it at its next start).
      expect(pending()).toBe(true);
      runs[1]!(ok);
      await until("the debt paid", () => pending() === false);
      expect(pending()).toBe(false);
    } finally {
      for (const end of runs) end(ok);
      await scheduler.stop();
    }
  });
});

/**
 * The service's scheduler and a verb's reload (`check` after its refresh, a `sync`), as two processes share them: one
 * state directory, the reload lock and the record in it real; the service's settle timer on a fake clock, each side's
 * reload command ended by hand.
 */
function twoProcesses() {
  const dir = mkdtempSync(join(tmpdir(), "oauth-sync-reload-two-"));
  dirs.push(dir);
  const stateDir = join(dir, "state");
  const parsed = parseConfig(
    JSON.stringify({ credentials: join(dir, "c.json"), stateDir, targets: [{ kind: "env-file", path: join(dir, ".env") }], gateway: { kind: "command", command: ["reload-it"] } }),
    join(dir, "config.json"),
  );
  if (!parsed.ok || parsed.config.gateway.kind !== "command") throw new Error("config");
  const config = parsed.config;
  const gateway = parsed.config.gateway;
  const clock = fakeClock(Date.now());
  const watchRuns: Array<(result: RunResult) => void> = [];
  const checkRuns: Array<(result: RunResult) => void> = [];
  const outcomes: ReloadResult[] = [];
  let outcome: () => void = () => {};
  const watch = createReloadScheduler(config, {
    run: () => new Promise<RunResult>((resolve) => watchRuns.push(resolve)),
    now: clock.now,
    sleep: async () => {},
    random: () => 0.5,
    clock,
    onOutcome: (result) => {
      outcomes.push(result);
      outcome();
    },
  });
  const checkDeps = { run: () => new Promise<RunResult>((resolve) => checkRuns.push(resolve)), now: clock.now, sleep: async () => {} };
  /** The check's pass: its own change (marked now) or the debt the record holds; none: no reload. */
  const check = async (wrote: boolean) => {
    const change = wrote ? { since: await changeMark(stateDir) } : await reloadOwed(stateDir);
    return change === undefined ? undefined : reloadFor(gateway, stateDir, change, checkDeps);
  };
  /** The settle time passes and the watch's turn has ended. */
  const watchTurn = async () => {
    const ended = new Promise<void>((resolve) => (outcome = resolve));
    clock.advance(gateway.settleSeconds * 1000);
    await ended;
  };
  /** A pass of the service that wrote nothing and went well; what it asks for is due now on its clock. */
  const goodPass = async () => {
    await watch.retryIfOwed();
    clock.advance(0);
  };
  const record = () => JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")).gateway;
  const until = (what: string, condition: () => boolean) => waitUntil(what, condition, { timeoutMs: 2000, intervalMs: 5 });
  return { watch, check, watchTurn, goodPass, watchRuns, checkRuns, outcomes, record, until, clock };
}

const failed: RunResult = { code: 7, stdout: "", stderr: "gateway is down", timedOut: false };

describe("one change, one reload, across the service and a verb", () => {
  test("the service's debt paid by check before its settle time: at its time nothing runs, and it says so", async () => {
    const t = twoProcesses();
    try {
      await t.watch.request({ since: await t.watch.mark() });
      expect(t.record()).toMatchObject({ pending: true, owedSince: 0 });
      // check: the targets are current (the watch wrote them), the record says a reload is owed.
      const paying = t.check(false);
      await t.until("check's reload", () => t.checkRuns.length === 1);
      t.checkRuns[0]!(ok);
      expect(await paying).toEqual({ ok: true, detail: "ran reload-it" });
      expect(t.record()).toMatchObject({ pending: false, lastGood: 1 });
      await t.watchTurn();
      expect(t.watchRuns).toHaveLength(0);
      expect(t.outcomes).toEqual([{ ok: true, covered: true, detail: expect.stringContaining("already reloaded by another process after this change (reload 1 at ") }]);
      expect(t.watch.reloads).toBe(0);
      expect(t.record()).toMatchObject({ pending: false, started: 1, lastGood: 1 });
    } finally {
      await t.watch.stop();
    }
  });

  test("check comes while the service's reload runs: it waits for that reload and finds its change covered", async () => {
    const t = twoProcesses();
    try {
      await t.watch.request({ since: await t.watch.mark() });
      t.clock.advance(2000);
      await t.until("the service's reload", () => t.watchRuns.length === 1);
      const waiting = t.check(false);
      await Bun.sleep(100);
      expect(t.checkRuns).toHaveLength(0);
      t.watchRuns[0]!(ok);
      const result = await waiting;
      expect(result).toMatchObject({ ok: true, covered: true });
      expect(t.checkRuns).toHaveLength(0);
    } finally {
      await t.watch.stop();
    }
  });

  test("check's reload fails: the debt stays, and the service still reloads at its time", async () => {
    const t = twoProcesses();
    try {
      await t.watch.request({ since: await t.watch.mark() });
      const paying = t.check(false);
      await t.until("check's reload", () => t.checkRuns.length === 1);
      t.checkRuns[0]!(failed);
      expect(await paying).toMatchObject({ ok: false });
      expect(t.record()).toMatchObject({ pending: true, attempts: 1 });
      const turn = t.watchTurn();
      await t.until("the service's reload", () => t.watchRuns.length === 1);
      t.watchRuns[0]!(ok);
      await turn;
      expect(t.record()).toMatchObject({ pending: false, attempts: 0, lastGood: 2 });
    } finally {
      await t.watch.stop();
    }
  });

  test("a change the service marks while check's reload runs is not paid by it: the service reloads for it", async () => {
    const t = twoProcesses();
    try {
      // check wrote the targets and reloads now (reload 1).
      const own = t.check(true);
      await t.until("check's reload", () => t.checkRuns.length === 1);
      // Meanwhile the watch wrote them again (another rotation): marked 1, after reload 1 started.
      const mark = await t.watch.mark();
      expect(mark).toBe(1);
      await t.watch.request({ since: mark });
      t.checkRuns[0]!(ok);
      expect(await own).toEqual({ ok: true, detail: "ran reload-it" });
      expect(t.record()).toMatchObject({ pending: true, owedSince: 1, lastGood: 1 });
      const turn = t.watchTurn();
      await t.until("the service's reload", () => t.watchRuns.length === 1);
      t.watchRuns[0]!(ok);
      await turn;
      expect(t.outcomes).toEqual([{ ok: true, detail: "ran reload-it" }]);
      expect(t.record()).toMatchObject({ pending: false, lastGood: 2 });
    } finally {
      await t.watch.stop();
    }
  });

  test("check wrote the targets and its reload failed: the service's next good pass finds the debt in the record and pays it", async () => {
    const t = twoProcesses();
    try {
      const own = t.check(true);
      await t.until("check's reload", () => t.checkRuns.length === 1);
      t.checkRuns[0]!(failed);
      expect(await own).toMatchObject({ ok: false });
      expect(t.record()).toMatchObject({ pending: true, attempts: 1 });
      // The service's pass found the targets current (check wrote them): no change of its own, only a good pass.
      await t.goodPass();
      await t.until("the service's reload", () => t.watchRuns.length === 1);
      t.watchRuns[0]!(ok);
      await t.until("the service's turn", () => t.outcomes.length === 1);
      expect(t.outcomes).toEqual([{ ok: true, detail: "ran reload-it" }]);
      expect(t.record()).toMatchObject({ pending: false, attempts: 0, lastGood: 2 });
      // Paid: a later good pass finds nothing owed and runs nothing.
      await t.goodPass();
      await Bun.sleep(50);
      expect(t.watchRuns).toHaveLength(1);
    } finally {
      await t.watch.stop();
    }
  });

  test("a good pass while check's reload runs: the service takes the debt on, waits for that reload, and finds it paid", async () => {
    const t = twoProcesses();
    try {
      const own = t.check(true);
      await t.until("check's reload", () => t.checkRuns.length === 1);
      await t.goodPass();
      await Bun.sleep(100);
      expect(t.watchRuns).toHaveLength(0);
      t.checkRuns[0]!(ok);
      expect(await own).toEqual({ ok: true, detail: "ran reload-it" });
      await t.until("the service's turn", () => t.outcomes.length === 1);
      expect(t.outcomes).toEqual([{ ok: true, covered: true, detail: expect.stringContaining("already reloaded by another process") }]);
      expect(t.watchRuns).toHaveLength(0);
      expect(t.record()).toMatchObject({ pending: false, started: 1, lastGood: 1 });
    } finally {
      await t.watch.stop();
    }
  });

  test("check with nothing written and nothing owed reloads nothing; the service's own reload pays its change", async () => {
    const t = twoProcesses();
    try {
      await t.watch.request({ since: await t.watch.mark() });
      const turn = t.watchTurn();
      await t.until("the service's reload", () => t.watchRuns.length === 1);
      t.watchRuns[0]!(ok);
      await turn;
      expect(await t.check(false)).toBeUndefined();
      expect(t.checkRuns).toHaveLength(0);
    } finally {
      await t.watch.stop();
    }
  });
});
