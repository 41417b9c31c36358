import { describe, expect, test } from "bun:test";
import { begin, coveredLine, drop, markOf, owe, owedSince, paidFor, settle } from "../../src/gateway/debt.ts";
import type { GatewayState } from "../../src/gateway/types.ts";

/**
 * The reload debt shared by the processes of a host (src/gateway/debt.ts), pure: reloads numbered as they start, a
 * change placed among them by its mark, paid by a good reload numbered above it.
 */

const T = Date.parse("2026-05-01T10:00:00Z");
const good = { ok: true as const, detail: "ran reload.sh" };
const bad = { ok: false as const, error: "reload.sh exited 7: gateway is down" };

/** One process's whole reload on the record: numbered, then settled (what reloadInTurn does under the lock). */
function reload(record: GatewayState | undefined, result: typeof good | typeof bad, at = T): GatewayState {
  const started = begin(record);
  return settle(started, markOf(started), result, at);
}

describe("the reload debt across processes", () => {
  test("a change on disk before a reload started is paid by it: the other process's reload then finds it covered", () => {
    // The watch wrote the targets (mark 0: no reload started yet) and owes a reload, due after its settle time.
    const watchMark = markOf(undefined);
    let record = owe(undefined, watchMark);
    expect(record).toEqual({ pending: true, owedSince: 0 });
    expect(owedSince(record)).toBe(0);
    // check: the targets are current, but the record says a reload is owed: it reloads now (reload 1).
    record = reload(record, good);
    expect(record).toEqual({ pending: false, started: 1, lastGood: 1, attempts: 0, lastReloadAt: new Date(T).toISOString(), lastDetail: good.detail });
    // The watch's timer fires: its change is covered, nothing to run.
    expect(paidFor(record, watchMark)).toBe(true);
    expect(owedSince(record)).toBeUndefined();
    expect(coveredLine(record)).toBe(`already reloaded by another process after this change (reload 1 at ${new Date(T).toISOString()}): not reloaded again`);
  });

  test("a change that came in while a reload ran (marked with its number) stays owed after it, until the next good one", () => {
    let record = begin(owe(undefined, 0));
    const running = markOf(record);
    expect(running).toBe(1);
    // A pass wrote the targets during reload 1: its mark is 1.
    record = owe(record, markOf(record));
    record = settle(record, running, good, T);
    expect(record.pending).toBe(true);
    expect(owedSince(record)).toBe(1);
    expect(paidFor(record, 1)).toBe(false);
    record = reload(record, good);
    expect(record.pending).toBe(false);
    expect(owedSince(record)).toBeUndefined();
  });

  test("a failed reload pays nothing: the debt and the failures in a row stay, and the next good reload, by either process, pays it", () => {
    let record = reload(owe(undefined, 0), bad);
    expect(record).toMatchObject({ pending: true, owedSince: 0, started: 1, attempts: 1, lastError: bad.error });
    expect(record.lastGood).toBeUndefined();
    record = reload(record, bad);
    expect(record).toMatchObject({ pending: true, owedSince: 0, attempts: 2 });
    record = reload(record, good);
    expect(record).toMatchObject({ pending: false, started: 3, lastGood: 3, attempts: 0 });
    expect(record.lastError).toBeUndefined();
  });

  test("the latest change's mark is the debt; a change owed after a good reload covered it records nothing owed", () => {
    let record = owe(owe(undefined, 3), 1);
    expect(record.owedSince).toBe(3);
    record = owe({ started: 5, lastGood: 5, pending: false }, 4);
    expect(record).toEqual({ started: 5, lastGood: 5, pending: false });
    expect(owedSince(record)).toBeUndefined();
    // Marked with the good reload's own number: it may have been written after that reload started.
    expect(owe({ started: 5, lastGood: 5, pending: false }, 5)).toMatchObject({ pending: true, owedSince: 5 });
  });

  test("a record from before reloads were numbered: its debt is paid by the first good reload", () => {
    const old: GatewayState = { pending: true, attempts: 2, lastError: "compose exited 1" };
    expect(owedSince(old)).toBe(-1);
    expect(markOf(old)).toBe(0);
    expect(owedSince(reload(old, bad))).toBe(-1);
    expect(reload(old, good)).toMatchObject({ pending: false, lastGood: 1 });
  });

  test("`oauth-sync reload` by hand that fails with nothing owed leaves one owed; the config's gateway gone drops it", () => {
    const record = reload({ started: 4, lastGood: 4, pending: false }, bad);
    expect(owedSince(record)).toBe(4);
    expect(drop(record)).toMatchObject({ pending: false, attempts: 0, started: 5, lastGood: 4 });
    expect(drop(record).owedSince).toBeUndefined();
  });

  test("numbers from two processes interleaved under the lock never go back", () => {
    let record: GatewayState = { started: 7, lastGood: 6, pending: true, owedSince: 6 };
    // A settle that reads a record another process moved on since (it began reload 8; reload 9 started after it).
    record = settle({ ...record, started: 9 }, 8, good, T);
    expect(record).toMatchObject({ started: 9, lastGood: 8, pending: false });
    record = settle(record, 7, good, T);
    expect(record.lastGood).toBe(8);
  });
});
