import { logger } from "../log/logger.ts";
import type { Config } from "../config/schema.ts";
import { oneLine } from "../log/one-line.ts";
import { backoffMs } from "../schedule/backoff.ts";
import { serialRunner } from "../schedule/runner.ts";
import { loadState, stateWriteFailed } from "../state/store.ts";
import { reloadGateway } from "./reload.ts";
import type { GatewayConfig } from "../config/gateway.ts";
import { gatewaySection, type ReloadDeps, type ReloadResult } from "./types.ts";

/** Pure: a failed reload (or push) is retried 1 s doubling to 5 min, ±25 % jitter so that many hosts do not retry in step. */
export const retryMs = (attempt: number, random: () => number) => backoffMs(attempt, { lastMs: 5 * 60_000, random });

/**
 * Write how a reload went into the state file; `attempts` counts failures in a row (from the state if not given).
 * `stillOwed`: a change came in while this reload ran, so a good one does not pay that change's debt.
 */
export function recordReload(stateDir: string, result: ReloadResult, started: number, attempts?: number, stillOwed = false): Promise<void> {
  return gatewaySection.update(stateDir, (mine) => {
    const previous = mine.gateway ?? {};
    if (result.ok) {
      mine.gateway = { pending: stillOwed, attempts: 0, lastReloadAt: new Date(started).toISOString(), lastDetail: result.detail };
      return;
    }
    const failures = attempts ?? (previous.attempts ?? 0) + 1;
    mine.gateway = { ...previous, pending: true, attempts: failures, lastError: result.error, lastErrorAt: new Date(started).toISOString() };
  });
}

/** Is a reload owed (a failure, or a service stopped before it reloaded), as the state file says? */
export async function reloadOwed(stateDir: string): Promise<boolean> {
  return Boolean(gatewaySection.read(await loadState(stateDir))?.pending);
}

/**
 * A reload owed to an earlier gateway config cannot be paid once `gateway` is `none`: the debt is dropped (said once
 * in the log), so `status` does not stay unhealthy for good. Returns whether there was one.
 */
export async function dropOwedReload(stateDir: string): Promise<boolean> {
  const dropped = await gatewaySection.update(stateDir, (mine) => {
    if (!mine.gateway?.pending) return false;
    mine.gateway = { ...mine.gateway, pending: false, attempts: 0 };
    return true;
  });
  if (dropped) logger.info('gateway: a reload owed under an earlier gateway config is dropped: the config says "none" now');
  return dropped;
}

/** Reload once now and record it: for the verbs, which do not stay around to retry. */
export async function reloadOnce(gateway: GatewayConfig, stateDir: string, deps: ReloadDeps): Promise<ReloadResult> {
  if (gateway.kind === "none") {
    await dropOwedReload(stateDir).catch(stateWriteFailed);
    return reloadGateway(gateway, deps);
  }
  const started = deps.now();
  const result = await reloadGateway(gateway, deps);
  await recordReload(stateDir, result, started).catch(stateWriteFailed);
  return result;
}

export interface SchedulerDeps extends ReloadDeps {
  random: () => number;
  /** Every attempt's outcome, with the failures in a row so far (the alerts keeper counts them). */
  onOutcome?: (result: ReloadResult, attempts: number) => unknown;
}

/**
 * Owes the gateway a reload after a change: waits `settleSeconds` for more changes (one reload per burst), retries a
 * failure with backoff, and keeps the debt in the state file so a restarted service pays it. The state file is a
 * record: when it cannot be written, reloads and retries go on from what this process knows.
 */
export function createReloadScheduler(config: Config, deps: SchedulerDeps) {
  const gateway = config.gateway;
  const settleMs = gateway.kind === "none" ? 0 : gateway.settleSeconds * 1000;
  let attempts = 0;
  let count = 0;

  const runner = serialRunner(attempt, { onError: (error) => logger.error(`gateway reload: ${oneLine(error)}`) });

  async function attempt() {
    const started = deps.now();
    const result = await reloadGateway(gateway, deps).catch((error): ReloadResult => ({ ok: false, error: oneLine(error) }));
    count++;
    attempts = result.ok ? 0 : attempts + 1;
    // Recorded before it is logged: whoever reads the log line finds the state file saying the same.
    await recordReload(config.stateDir, result, started, attempts, runner.pending.size > 0).catch(stateWriteFailed);
    if (result.ok) logger.success(`gateway: ${result.detail} (${((deps.now() - started) / 1000).toFixed(1)} s)`);
    else {
      const delay = retryMs(attempts, deps.random);
      logger.error(`gateway reload failed (attempt ${attempts}, next in ${Math.round(delay / 1000)} s): ${result.error}`);
      // A change that came in meanwhile keeps its sooner reload.
      runner.runWithin(delay);
    }
    await deps.onOutcome?.(result, attempts);
  }

  const remember = () =>
    gatewaySection
      .update(config.stateDir, (mine) => {
        mine.gateway = { ...mine.gateway, pending: true };
      })
      .catch(stateWriteFailed);

  return {
    /** A target the gateway reads changed. */
    async request() {
      if (gateway.kind === "none") return;
      runner.runIn(settleMs);
      await remember();
    },
    /** A sync went well: a reload still owed from a failure is tried now rather than at the end of its backoff. */
    retryIfOwed() {
      if (gateway.kind !== "none" && attempts > 0 && !runner.busy) runner.runIn(0);
    },
    /** At start: pay a reload left owed by an earlier run (or drop it when there is no gateway to reload any more). */
    async resume() {
      if (gateway.kind === "none") {
        await dropOwedReload(config.stateDir).catch(stateWriteFailed);
        return;
      }
      const state = await loadState(config.stateDir);
      attempts = gatewaySection.read(state)?.attempts ?? 0;
      if (gatewaySection.read(state)?.pending) runner.runIn(settleMs);
    },
    stop: () => runner.stop(),
    get reloads() {
      return count;
    },
  };
}
