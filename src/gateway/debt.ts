import type { GatewayState, ReloadResult } from "./types.ts";

/**
 * The reload debt, across the processes of one host (pure: the record in, the record out). Two of them may reload
 * the same gateway: the resident service, which settles and retries, and the verbs that reload before they exit
 * (`check` after a refresh, `sync`, `receive`, `reload`). One change of token must give one reload, whichever gets
 * there first, and a reload really owed must never be dropped. So:
 *
 * - every reload, by any process, is numbered when it starts (`started`), before it runs;
 * - a change (a pass wrote a target the gateway reads) is placed among them: `since`, the number of the last reload
 *   started when its writes were done. A reload numbered above it started after the change was on disk, so the
 *   gateway read it: a good one pays the change (`lastGood`);
 * - two processes may write the same token at once (`check` and the service both saw the new file). The one that
 *   reloads first had every target holding that token when its reload started (`lastGoodToken`): that reload also
 *   pays a change of the same token whose pass began (`from`: the number before its writes) before it started,
 *   however late that change's own writes ended: they wrote what the targets already held. A change of that token
 *   made after the reload started (a target repaired later) is not paid by it;
 * - the debt kept in the record is the latest change (`owedSince`, `owedFrom`, `owedToken`, while `pending`): a failed
 *   reload, a service stopped before it reloaded, a change that came in during a reload (numbered with that reload's
 *   own number) all stay owed until a reload pays them.
 *
 * Numbers, not times: no clock is shared by two processes that a step of the wall clock cannot reorder. A number read
 * a moment late only asks for one reload more, never one less.
 */

/** A change owed a reload: `since` read after its writes, `from` before them, `token` the fingerprint it wrote. */
export interface Change {
  since: number;
  from?: number;
  token?: string;
}

/** A record from before the reloads were numbered, or a debt of unknown age: paid by any good reload from now on. */
const BEFORE_ANY = -1;

/** Pure: the number to read before or after a pass's writes: the last reload started so far (0: none yet). */
export const markOf = (record: GatewayState | undefined): number => record?.started ?? 0;

/** Pure: has a good reload started after the change was on disk (or, for the same token, after its pass began)? */
export function paidFor(record: GatewayState | undefined, change: Change): boolean {
  const good = record?.lastGood;
  if (good === undefined) return false;
  if (good > change.since) return true;
  return change.token !== undefined && change.from !== undefined && good > change.from && record?.lastGoodToken === change.token;
}

/** Pure: the debt the record holds; undefined when nothing is owed. */
export function owedChange(record: GatewayState | undefined): Change | undefined {
  if (!record?.pending) return undefined;
  const change: Change = { since: record.owedSince ?? BEFORE_ANY, ...(record.owedFrom !== undefined && record.owedToken !== undefined ? { from: record.owedFrom, token: record.owedToken } : {}) };
  return paidFor(record, change) ? undefined : change;
}

/**
 * Pure: two changes owed as one, paid only when both are: the later `since`; the token rule only where both wrote the
 * same token (from the later pass's start).
 */
export function merge(a: Change, b: Change): Change {
  const since = Math.max(a.since, b.since);
  if (a.token === undefined || a.token !== b.token || a.from === undefined || b.from === undefined) return { since };
  return { since, from: Math.max(a.from, b.from), token: a.token };
}

function withDebt(record: GatewayState, change: Change | undefined): GatewayState {
  const { owedSince: _since, owedFrom: _from, owedToken: _token, ...rest } = record;
  if (!change) return { ...rest, pending: false };
  return { ...rest, pending: true, owedSince: change.since, ...(change.token !== undefined && change.from !== undefined ? { owedFrom: change.from, owedToken: change.token } : {}) };
}

/** Pure: the record with `change` owed a reload; as it was when a good reload has paid it (another process got there first). */
export function owe(record: GatewayState | undefined, change: Change): GatewayState {
  if (paidFor(record, change)) return { ...record };
  const previous = owedChange(record);
  return withDebt({ ...record }, previous ? merge(previous, change) : change);
}

/** Pure: the record with one more reload started; its number is the record's `started`. */
export function begin(record: GatewayState | undefined): GatewayState {
  return { ...record, started: markOf(record) + 1 };
}

/**
 * Pure: the record after reload `number` (started at `startedAt`, epoch ms) ended with `result`. `covers`: the token
 * every target held when it started (its process's pass left them so), if known. `attempts` counts the failures in a
 * row (from the record if not given). A good one pays what it covers; a change numbered with its own number (it came
 * in while it ran) stays owed.
 */
export function settle(record: GatewayState | undefined, number: number, result: ReloadResult, startedAt: number, options: { attempts?: number; covers?: string } = {}): GatewayState {
  const previous = record ?? {};
  const owed = owedChange(previous);
  const started = Math.max(previous.started ?? 0, number);
  if (result.ok) {
    const newer = number >= (previous.lastGood ?? 0);
    const lastGood = newer ? number : previous.lastGood!;
    const lastGoodToken = newer ? options.covers : previous.lastGoodToken;
    const after: GatewayState = {
      started,
      lastGood,
      ...(lastGoodToken !== undefined ? { lastGoodToken } : {}),
      attempts: 0,
      lastReloadAt: new Date(startedAt).toISOString(),
      lastDetail: result.detail,
    };
    return withDebt(after, owed && !paidFor(after, owed) ? owed : undefined);
  }
  // A reload that failed with no change on record (`oauth-sync reload` by hand) leaves one owed all the same.
  return {
    ...withDebt({ ...previous, started }, owed ?? { since: number - 1 }),
    attempts: options.attempts ?? (previous.attempts ?? 0) + 1,
    lastError: result.error,
    lastErrorAt: new Date(startedAt).toISOString(),
  };
}

/** Pure: the record with the debt dropped (the config says there is no gateway to reload any more). */
export function drop(record: GatewayState | undefined): GatewayState {
  return { ...withDebt({ ...record }, undefined), attempts: 0 };
}

/** Pure: one line on a reload not run because another process's covered the change, for the log. */
export function coveredLine(record: GatewayState | undefined): string {
  const when = record?.lastReloadAt ? ` at ${record.lastReloadAt}` : "";
  return `already reloaded by another process after this change (reload ${record?.lastGood ?? "?"}${when}): not reloaded again`;
}
