import type { GatewayState, ReloadResult } from "./types.ts";

/**
 * The reload debt, across the processes of one host (pure: the record in, the record out). Two of them may reload
 * the same gateway: the resident service, which settles and retries, and the verbs that reload before they exit
 * (`check` after a refresh, `sync`, `receive`, `reload`). One change of token must give one reload, whichever gets
 * there first, and a reload really owed must never be dropped. So:
 *
 * - every reload, by any process, is numbered when it starts (`started`), before it runs;
 * - a change that needs a reload (a pass wrote a target the gateway reads) is placed among them: its `mark` is the
 *   number of the last reload started when its writes were done. A reload numbered above the mark started after the
 *   change was on disk, so the gateway read it;
 * - a change is paid by a good reload numbered above its mark (`lastGood`). The debt kept in the record is the
 *   latest change's mark (`owedSince`, while `pending`): a failed reload, a service stopped before it reloaded, a
 *   change that came in during a reload (marked with that reload's own number) all stay owed until such a reload.
 *
 * Numbers, not times: no clock is shared by two processes that a step of the wall clock cannot reorder. A mark read
 * a moment late (a reload that started between the writes and the read) only asks for one reload more, never one less.
 */

/** A record from before the reloads were numbered, or a debt of unknown age: paid by any good reload from now on. */
const BEFORE_ANY = -1;

/** Pure: the mark of a change whose writes are done now (the last reload started so far; 0: none yet). */
export const markOf = (record: GatewayState | undefined): number => record?.started ?? 0;

/** Pure: has a good reload started after the change marked `since`? */
export const paidFor = (record: GatewayState | undefined, since: number): boolean => record?.lastGood !== undefined && record.lastGood > since;

/** Pure: the debt the record holds, as the mark it is owed since; undefined when nothing is owed. */
export function owedSince(record: GatewayState | undefined): number | undefined {
  if (!record?.pending) return undefined;
  const since = record.owedSince ?? BEFORE_ANY;
  return paidFor(record, since) ? undefined : since;
}

/**
 * Pure: the record with a change marked `since` owed a reload (the latest change's mark is kept: paying it pays all);
 * as it was when a good reload has started since (another process got there first).
 */
export function owe(record: GatewayState | undefined, since: number): GatewayState {
  if (paidFor(record, since)) return { ...record };
  const previous = owedSince(record);
  return { ...record, pending: true, owedSince: previous === undefined ? since : Math.max(previous, since) };
}

/** Pure: the record with one more reload started; its number is the record's `started`. */
export function begin(record: GatewayState | undefined): GatewayState {
  return { ...record, started: markOf(record) + 1 };
}

/**
 * Pure: the record after reload `number` (started at `startedAt`, epoch ms) ended with `result`; `attempts` counts
 * the failures in a row (from the record if not given). A good one pays every change marked below its number; a
 * change marked with its own number (it came in while it ran) stays owed.
 */
export function settle(record: GatewayState | undefined, number: number, result: ReloadResult, startedAt: number, attempts?: number): GatewayState {
  const previous = record ?? {};
  const since = owedSince(previous);
  const started = Math.max(previous.started ?? 0, number);
  if (result.ok) {
    const lastGood = Math.max(previous.lastGood ?? 0, number);
    const still = since !== undefined && since >= lastGood;
    return { pending: still, started, lastGood, ...(still ? { owedSince: since } : {}), attempts: 0, lastReloadAt: new Date(startedAt).toISOString(), lastDetail: result.detail };
  }
  return {
    ...previous,
    started,
    pending: true,
    // A reload that failed with no change on record (`oauth-sync reload` by hand) leaves one owed all the same.
    owedSince: since ?? number - 1,
    attempts: attempts ?? (previous.attempts ?? 0) + 1,
    lastError: result.error,
    lastErrorAt: new Date(startedAt).toISOString(),
  };
}

/** Pure: the record with the debt dropped (the config says there is no gateway to reload any more). */
export function drop(record: GatewayState | undefined): GatewayState {
  const { owedSince: _dropped, ...rest } = record ?? {};
  return { ...rest, pending: false, attempts: 0 };
}

/** Pure: one line on a reload not run because another process's covered the change, for the log. */
export function coveredLine(record: GatewayState | undefined): string {
  const when = record?.lastReloadAt ? ` at ${record.lastReloadAt}` : "";
  return `already reloaded by another process after this change (reload ${record?.lastGood ?? "?"}${when}): not reloaded again`;
}
