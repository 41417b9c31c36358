import { logger } from "../log/logger.ts";
import { updateState } from "../sync/state.ts";
import { reloadGateway } from "./reload.ts";
import type { GatewayConfig } from "./schema.ts";
import type { ReloadDeps, ReloadResult } from "./types.ts";

const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 5 * 60_000;

/** Pure: 1 s doubling to 5 min, ±25 % jitter so that many hosts do not retry in step. */
export function backoffMs(attempt: number, random: () => number): number {
  const base = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** Write how a reload went into the state file; returns the failed attempts so far (0 after a success). */
export function recordReload(stateDir: string, result: ReloadResult, started: number): Promise<number> {
  return updateState(stateDir, (state) => {
    const previous = state.gateway ?? {};
    if (result.ok) {
      state.gateway = { pending: false, attempts: 0, lastReloadAt: new Date(started).toISOString(), lastDetail: result.detail };
      return 0;
    }
    const attempts = (previous.attempts ?? 0) + 1;
    state.gateway = { ...previous, pending: true, attempts, lastError: result.error, lastErrorAt: new Date(started).toISOString() };
    return attempts;
  });
}

/** Reload once now and record it: for `sync` and `reload`, which do not stay around to retry. */
export async function reloadOnce(gateway: GatewayConfig, stateDir: string, deps: ReloadDeps): Promise<ReloadResult> {
  const started = deps.now();
  const result = await reloadGateway(gateway, deps);
  if (gateway.kind !== "none") await recordReload(stateDir, result, started);
  return result;
}

export interface SchedulerDeps extends ReloadDeps {
  gateway: () => GatewayConfig;
  stateDir: () => string;
  random: () => number;
}

/**
 * Owes the gateway a reload after a change: waits `settleSeconds` for more changes (one reload per burst), retries a
 * failure with backoff, and keeps the debt in the state file so a restarted service pays it.
 */
export function createReloadScheduler(deps: SchedulerDeps) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let requestedWhileRunning = false;
  let stopped = false;
  let count = 0;

  const settleMs = () => {
    const gateway = deps.gateway();
    return gateway.kind === "none" ? 0 : gateway.settleSeconds * 1000;
  };

  function schedule(ms: number) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void attempt(), ms);
  }

  async function attempt() {
    timer = undefined;
    if (running) {
      requestedWhileRunning = true;
      return;
    }
    running = (async () => {
      const started = deps.now();
      const result = await reloadGateway(deps.gateway(), deps).catch((error): ReloadResult => ({ ok: false, error: String(error?.message ?? error) }));
      count++;
      const attempts = await recordReload(deps.stateDir(), result, started);
      if (result.ok) logger.success(`gateway: ${result.detail} (${((deps.now() - started) / 1000).toFixed(1)} s)`);
      else {
        const delay = backoffMs(attempts, deps.random);
        logger.error(`gateway reload failed (attempt ${attempts}, next in ${Math.round(delay / 1000)} s): ${result.error}`);
        schedule(delay);
      }
    })();
    await running;
    running = undefined;
    if (requestedWhileRunning) {
      requestedWhileRunning = false;
      schedule(settleMs());
    }
  }

  return {
    /** A target the gateway reads changed. */
    async request() {
      if (deps.gateway().kind === "none") return;
      await updateState(deps.stateDir(), (state) => {
        state.gateway = { ...state.gateway, pending: true };
      });
      if (running) requestedWhileRunning = true;
      else schedule(settleMs());
    },
    /** A sync went well: a reload still owed from a failure is tried now rather than at the end of its backoff. */
    async retryIfOwed() {
      if (deps.gateway().kind === "none" || running) return;
      const state = await updateState(deps.stateDir(), (s) => s.gateway);
      if (state?.pending && state.attempts) schedule(0);
    },
    /** At start: pay a reload left owed by an earlier run. */
    async resume() {
      if (deps.gateway().kind === "none") return;
      const state = await updateState(deps.stateDir(), (s) => s.gateway);
      if (state?.pending) schedule(settleMs());
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    get reloads() {
      return count;
    },
  };
}
