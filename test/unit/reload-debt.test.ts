import { describe, expect, test } from "bun:test";
import { begin, coveredLine, drop, markOf, merge, owe, owedChange, paidFor, settle, type Change } from "../../src/gateway/debt.ts";
import type { GatewayState } from "../../src/gateway/types.ts";

/**
 * The reload debt shared by the processes of a host (src/gateway/debt.ts), pure: reloads numbered as they start, a
 * change placed among them by the numbers read before and after its writes, paid by a good reload that started after
 * it was on disk (or, for the same token, after its pass began).
 */

const T = Date.parse("2026-05-01T10:00:00Z");
const good = { ok: true as const, detail: "ran reload.sh" };
const bad = { ok: false as const, error: "reload.sh exited 7: gateway is down" };
const F = "0e92b0813f38";
const G = "9966edce3abf";

/** One process's whole reload on the record: numbered, then settled (what reloadInTurn does under the lock). */
function reload(record: GatewayState | undefined, result: typeof good | typeof bad, covers?: string): GatewayState {
  const started = begin(record);
  return settle(started, markOf(started), result, T, { covers });
}

describe("the reload debt across processes", () => {
  test("a change on disk before a reload started is paid by it: the other process's reload then finds it covered", () => {
    // The watch wrote the targets (no reload started before or after its writes) and owes a reload after its settle time.
    const watch: Change = { since: markOf(undefined), from: 0, token: F };
    let record = owe(undefined, watch);
    expect(record).toEqual({ pending: true, owedSince: 0, owedFrom: 0, owedToken: F });
    expect(owedChange(record)).toEqual(watch);
    // check: the targets are current, but the record says a reload is owed: it reloads now (reload 1).
    record = reload(record, good, F);
    expect(record).toEqual({ pending: false, started: 1, lastGood: 1, lastGoodToken: F, attempts: 0, lastReloadAt: new Date(T).toISOString(), lastDetail: good.detail });
    // The watch's timer fires: its change is covered, nothing to run.
    expect(paidFor(record, watch)).toBe(true);
    expect(owedChange(record)).toBeUndefined();
    expect(coveredLine(record)).toBe(`already reloaded by another process after this change (reload 1 at ${new Date(T).toISOString()}): not reloaded again`);
  });

  test("both wrote the same token at once: the first reload pays the other's change, however late its writes ended", () => {
    // check's reload 1 started (every target holding F) while the watch's writes of F were still landing: the watch read
    // the number after its writes as 1, and 0 before them.
    let record = reload(undefined, good, F);
    const watch: Change = { since: 1, from: 0, token: F };
    expect(paidFor(record, watch)).toBe(true);
    expect(owe(record, watch)).toEqual(record);
    // Not for another token, nor when the reload's process did not know every target held it, nor for a pass that
    // began after the reload started (a target repaired later must reach the gateway).
    expect(paidFor(record, { ...watch, token: G })).toBe(false);
    expect(paidFor(reload(undefined, good), watch)).toBe(false);
    expect(paidFor(record, { since: 1, from: 1, token: F })).toBe(false);
    // Owed before the reload settled: settling it clears the debt as well.
    record = owe(begin(undefined), watch);
    expect(record.pending).toBe(true);
    record = settle(record, 1, good, T, { covers: F });
    expect(record.pending).toBe(false);
    expect(record.owedSince).toBeUndefined();
  });

  test("a change that came in while a reload ran (numbered with it) stays owed after it, until the next good one", () => {
    let record = begin(owe(undefined, { since: 0 }));
    const running = markOf(record);
    expect(running).toBe(1);
    // A pass wrote another token during reload 1: its numbers are 1 and 1.
    record = owe(record, { since: markOf(record), from: markOf(record), token: G });
    record = settle(record, running, good, T, { covers: F });
    expect(record).toMatchObject({ pending: true, owedSince: 1, lastGood: 1 });
    // Owed with a change of unknown token: the token rule is off for the two together.
    expect(owedChange(record)).toEqual({ since: 1 });
    record = reload(record, good);
    expect(record.pending).toBe(false);
    expect(owedChange(record)).toBeUndefined();
  });

  test("a failed reload pays nothing: the debt and the failures in a row stay, and the next good reload, by either process, pays it", () => {
    let record = reload(owe(undefined, { since: 0, from: 0, token: F }), bad, F);
    expect(record).toMatchObject({ pending: true, owedSince: 0, owedToken: F, started: 1, attempts: 1, lastError: bad.error });
    expect(record.lastGood).toBeUndefined();
    record = reload(record, bad);
    expect(record).toMatchObject({ pending: true, owedSince: 0, attempts: 2 });
    record = reload(record, good);
    expect(record).toMatchObject({ pending: false, started: 3, lastGood: 3, attempts: 0 });
    expect(record.lastError).toBeUndefined();
  });

  test("changes owed together are paid only together: the later number, the token rule only for one token", () => {
    expect(merge({ since: 3, from: 2, token: F }, { since: 1, from: 1, token: F })).toEqual({ since: 3, from: 2, token: F });
    expect(merge({ since: 3, from: 2, token: F }, { since: 4, from: 4, token: G })).toEqual({ since: 4 });
    expect(merge({ since: 3 }, { since: 2, from: 2, token: F })).toEqual({ since: 3 });
    expect(owe(owe(undefined, { since: 3 }), { since: 1 })).toMatchObject({ owedSince: 3 });
    // A change owed after a good reload paid it records nothing owed.
    const paid = { started: 5, lastGood: 5, pending: false };
    expect(owe(paid, { since: 4 })).toEqual(paid);
    expect(owedChange(owe(paid, { since: 4 }))).toBeUndefined();
    // Numbered with the good reload's own number: it may have been written after that reload started.
    expect(owe(paid, { since: 5 })).toMatchObject({ pending: true, owedSince: 5 });
  });

  test("a record from before reloads were numbered: its debt is paid by the first good reload", () => {
    const old: GatewayState = { pending: true, attempts: 2, lastError: "compose exited 1" };
    expect(owedChange(old)).toEqual({ since: -1 });
    expect(markOf(old)).toBe(0);
    expect(owedChange(reload(old, bad))).toEqual({ since: -1 });
    expect(reload(old, good)).toMatchObject({ pending: false, lastGood: 1 });
  });

  test("`oauth-sync reload` by hand that fails with nothing owed leaves one owed; the config's gateway gone drops it", () => {
    const record = reload({ started: 4, lastGood: 4, pending: false }, bad);
    expect(owedChange(record)).toEqual({ since: 4 });
    expect(drop(record)).toMatchObject({ pending: false, attempts: 0, started: 5, lastGood: 4 });
    expect(drop(record).owedSince).toBeUndefined();
  });

  test("numbers from two processes interleaved under the lock never go back", () => {
    let record: GatewayState = { started: 7, lastGood: 6, pending: true, owedSince: 6 };
    // A settle that reads a record another process moved on since (it began reload 8; reload 9 started after it).
    record = settle({ ...record, started: 9 }, 8, good, T, { covers: F });
    expect(record).toMatchObject({ started: 9, lastGood: 8, lastGoodToken: F, pending: false });
    record = settle(record, 7, good, T, { covers: G });
    expect(record).toMatchObject({ lastGood: 8, lastGoodToken: F });
  });
});
