import { logger } from "../log/logger.ts";
import type { Config } from "../config/schema.ts";
import { oneLine } from "../log/one-line.ts";
import { backoffMs } from "../schedule/backoff.ts";
import { serialRunner, type Clock } from "../schedule/runner.ts";
import { join } from "node:path";
import { takePidLock } from "../fs/pid-lock.ts";
import { loadState, stateWriteFailed } from "../state/store.ts";
import { begin, coveredLine, drop, markOf, merge, owe, owedChange, paidFor, settle, type Change } from "./debt.ts";
import { reloadGateway } from "./reload.ts";
import type { GatewayConfig } from "../config/gateway.ts";
import { gatewaySection, type GatewayState, type ReloadDeps, type ReloadResult } from "./types.ts";

/** Pure: a failed reload (or push) is retried 1 s doubling to 5 min, ±25 % jitter so that many hosts do not retry in step. */
export const retryMs = (attempt: number, random: () => number) => backoffMs(attempt, { lastMs: 5 * 60_000, random });

/** A gateway that has something to reload. */
type Reloadable = Exclude<GatewayConfig, { kind: "none" }>;

/** One reload at a time among the processes that share the state directory (src/fs/pid-lock.ts). */
export const RELOAD_LOCK = "reload.lock";

/**
 * A holder's reload ends within its timeout (compose: its command, then the wait until the container is ready), so a
 * lock older than twice that was left by a stuck holder; a waiter waits a little longer than that, looking four times
 * a second (a reload takes seconds).
 */
function reloadLockTimes(gateway: Reloadable) {
  const staleMs = 2 * gateway.timeoutSeconds * 1000 + 60_000;
  return { staleMs, waitMs: staleMs + 10_000, pollMs: 250 };
}

export type Turn =
  /** Nothing run: a good reload started after the change (by another process). */
  | { kind: "covered"; record: GatewayState | undefined }
  | { kind: "ran"; number: number; result: ReloadResult; ms: number }
  /** The service stopped while it waited for another process's reload: the debt stays in the record. */
  | { kind: "cancelled" };

/**
 * One reload, in turn with every other process that reloads this gateway from the same state directory: under the
 * reload lock; not at all when `change` (the change it is owed for, src/gateway/debt.ts) is given and a good reload
 * has paid it; numbered in the record before it runs and its outcome recorded after, both under the lock, so whoever
 * waited reads how it went. `covers`: the token every target holds (this process's pass left them so), if known.
 * `failures`: the failures in a row this one makes if it fails (default: one more than the record says). The state
 * file is a record: where it cannot be locked or written, the reload runs.
 */
export async function reloadInTurn(
  gateway: Reloadable,
  stateDir: string,
  change: Change | undefined,
  deps: ReloadDeps,
  options: { failures?: number; covers?: string; cancelled?: () => boolean } = {},
): Promise<Turn> {
  const onLongWait = (holder?: { pid: number }) => logger.info(`gateway: another reload is under way (${holder ? `pid ${holder.pid}, ` : ""}${join(stateDir, RELOAD_LOCK)}): waiting for it`);
  const lock = await takePidLock(stateDir, RELOAD_LOCK, { ...reloadLockTimes(gateway), cancelled: options.cancelled, onLongWait }).catch((error: unknown) => {
    logger.debug(`gateway: ${oneLine(error)}: reloading without it`);
    return undefined;
  });
  if (lock?.taken === false) {
    if (lock.reason === "cancelled") return { kind: "cancelled" };
    logger.warn(`gateway: ${join(stateDir, RELOAD_LOCK)} is still held by ${lock.holder ? `pid ${lock.holder.pid}` : "another process"}: reloading without waiting longer`);
  }
  try {
    const record = gatewaySection.read(await loadState(stateDir));
    if (change && paidFor(record, change)) return { kind: "covered", record };
    const number = await gatewaySection
      .update(stateDir, (mine) => {
        mine.gateway = begin(mine.gateway);
        return markOf(mine.gateway);
      })
      .catch((error: unknown) => {
        stateWriteFailed(error);
        return markOf(record) + 1;
      });
    const started = deps.now();
    const result = await reloadGateway(gateway, deps).catch((error): ReloadResult => ({ ok: false, error: oneLine(error) }));
    await gatewaySection.update(stateDir, (mine) => void (mine.gateway = settle(mine.gateway, number, result, started, { attempts: options.failures, covers: options.covers }))).catch(stateWriteFailed);
    return { kind: "ran", number, result, ms: deps.now() - started };
  } finally {
    if (lock?.taken) lock.release();
  }
}

/** Pure: the outcome of a turn that ran or was covered; "not run" for one cancelled (the service stopped meanwhile). */
function turnResult(turn: Turn): ReloadResult {
  if (turn.kind === "covered") return { ok: true, covered: true, detail: coveredLine(turn.record) };
  return turn.kind === "ran" ? turn.result : { ok: false, error: "not run" };
}

/** The number a pass reads before and after its writes: the last reload started (src/gateway/debt.ts). */
export async function changeMark(stateDir: string): Promise<number> {
  return markOf(gatewaySection.read(await loadState(stateDir)));
}

/** The debt the state file holds (a failure, a service stopped before it reloaded); undefined: none. */
export async function reloadOwed(stateDir: string): Promise<Change | undefined> {
  return owedChange(gatewaySection.read(await loadState(stateDir)));
}

/** Record that `change` is owed a reload (kept across restarts, and seen by the other processes). */
export function oweReload(stateDir: string, change: Change): Promise<void> {
  return gatewaySection.update(stateDir, (mine) => void (mine.gateway = owe(mine.gateway, change)));
}

/**
 * A reload owed to an earlier gateway config cannot be paid once `gateway` is `none`: the debt is dropped (said once
 * in the log), so `status` does not stay unhealthy for good. Returns whether there was one.
 */
export async function dropOwedReload(stateDir: string): Promise<boolean> {
  const dropped = await gatewaySection.update(stateDir, (mine) => {
    if (!mine.gateway?.pending) return false;
    mine.gateway = drop(mine.gateway);
    return true;
  });
  if (dropped) logger.info('gateway: a reload owed under an earlier gateway config is dropped: the config says "none" now');
  return dropped;
}

/** Reload once now and record it, whatever is owed: `oauth-sync reload` (waiting for a reload under way elsewhere). */
export async function reloadOnce(gateway: GatewayConfig, stateDir: string, deps: ReloadDeps): Promise<ReloadResult> {
  if (gateway.kind === "none") {
    await dropOwedReload(stateDir).catch(stateWriteFailed);
    return reloadGateway(gateway, deps);
  }
  return turnResult(await reloadInTurn(gateway, stateDir, undefined, deps));
}

/**
 * Reload now for `change`, unless a good reload has paid it (then nothing runs and the result says so): the verbs',
 * which do not stay around to retry. The debt is recorded first, so a reload that fails, or a verb killed during it,
 * leaves it owed. `covers`: the token every target holds (the verb's pass left them so), if known.
 */
export async function reloadFor(gateway: Reloadable, stateDir: string, change: Change, deps: ReloadDeps, covers?: string): Promise<ReloadResult> {
  await oweReload(stateDir, change).catch(stateWriteFailed);
  return turnResult(await reloadInTurn(gateway, stateDir, change, deps, { covers }));
}

export interface SchedulerDeps extends ReloadDeps {
  random: () => number;
  /** The settle and retry timers (a fake clock in tests). */
  clock?: Clock;
  /** Every attempt's outcome, with the failures in a row so far (the alerts keeper counts them). */
  onOutcome?: (result: ReloadResult, attempts: number) => unknown;
}

/**
 * Owes the gateway a reload after a change: waits `settleSeconds` for more changes (one reload per burst), retries a
 * failure with backoff, and keeps the debt in the state file so a restarted service pays it. When it is due, a good
 * reload another process started after the change (`check` after its refresh, a `sync`) has paid it: then nothing
 * runs, and one log line says so. The state file is a record: when it cannot be written, reloads and retries go on
 * from what this process knows.
 */
export function createReloadScheduler(config: Config, deps: SchedulerDeps) {
  const gateway = config.gateway;
  const settleMs = gateway.kind === "none" ? 0 : gateway.settleSeconds * 1000;
  let attempts = 0;
  let count = 0;
  let stopped = false;
  /** The changes owed a reload, as one (src/gateway/debt.ts); undefined: nothing owed. */
  let owed: Change | undefined;

  const runner = serialRunner(attempt, { clock: deps.clock, onError: (error) => logger.error(`gateway reload: ${oneLine(error)}`) });

  async function attempt() {
    if (gateway.kind === "none" || !owed) return;
    const turn = await reloadInTurn(gateway, config.stateDir, owed, deps, { failures: attempts + 1, cancelled: () => stopped });
    if (turn.kind === "cancelled") return;
    if (turn.kind === "covered") {
      // A change that came in meanwhile (marked later) keeps its own run.
      if (owed && paidFor(turn.record, owed)) owed = undefined;
      attempts = 0;
      logger.info(`gateway: ${coveredLine(turn.record)}`);
      await deps.onOutcome?.(turnResult(turn), attempts);
      return;
    }
    const result = turn.result;
    count++;
    attempts = result.ok ? 0 : attempts + 1;
    // Paid: every change on disk before this reload started; one numbered with its number came in while it ran.
    if (result.ok && owed && owed.since < turn.number) owed = undefined;
    // Recorded before it is logged (reloadInTurn): whoever reads the log line finds the state file saying the same.
    if (result.ok) logger.success(`gateway: ${result.detail} (${(turn.ms / 1000).toFixed(1)} s)`);
    else {
      const delay = retryMs(attempts, deps.random);
      logger.error(`gateway reload failed (attempt ${attempts}, next in ${Math.round(delay / 1000)} s): ${result.error}`);
      // A change that came in meanwhile keeps its sooner reload.
      runner.runWithin(delay);
    }
    await deps.onOutcome?.(result, attempts);
  }

  return {
    /** The number a pass reads before and after its writes (src/gateway/debt.ts). */
    mark: () => changeMark(config.stateDir),
    /** A target the gateway reads changed. */
    async request(change: Change) {
      if (gateway.kind === "none") return;
      owed = owed ? merge(owed, change) : change;
      runner.runIn(settleMs);
      await oweReload(config.stateDir, change).catch(stateWriteFailed);
    },
    /**
     * A sync went well: a reload still owed from a failure is tried now rather than at the end of its backoff; one the
     * state file holds and this process did not know of is taken on. A verb records its debt before it reloads, and
     * leaves it owed when that reload fails or the verb is killed during it; after `check` has written the targets,
     * the watch's own pass finds nothing to change, so nothing else would reload until the next change of token.
     */
    async retryIfOwed() {
      if (gateway.kind === "none" || runner.busy) return;
      if (owed) {
        if (attempts > 0) runner.runIn(0);
        return;
      }
      const recorded = await reloadOwed(config.stateDir).catch(() => undefined);
      if (!recorded || owed || stopped) return;
      owed = recorded;
      logger.info("gateway: the state file holds a reload owed (left by another process, or by an earlier run): reloading now unless another process's reload has paid it");
      runner.runIn(0);
    },
    /** At start: pay a reload left owed by an earlier run (or drop it when there is no gateway to reload any more). */
    async resume() {
      if (gateway.kind === "none") {
        await dropOwedReload(config.stateDir).catch(stateWriteFailed);
        return;
      }
      const record = gatewaySection.read(await loadState(config.stateDir));
      attempts = record?.attempts ?? 0;
      owed = owedChange(record);
      if (owed) runner.runIn(settleMs);
    },
    stop: () => {
      stopped = true;
      return runner.stop();
    },
    get reloads() {
      return count;
    },
  };
}
