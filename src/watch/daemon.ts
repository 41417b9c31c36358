import type { Config } from "../config/schema.ts";
import { createReloadScheduler } from "../gateway/scheduler.ts";
import type { ReloadDeps } from "../gateway/types.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import { failingEvent, thisHost, type NotifyEvent } from "../notify/event.ts";
import { emptyStreak, onFailure, onSuccess, type Streak } from "../notify/policy.ts";
import { createPushScheduler } from "../push/scheduler.ts";
import { sshTargets } from "../push/targets.ts";
import type { CheckDeps } from "../refresh/check.ts";
import { createRefreshService } from "../refresh/service.ts";
import { PASS_STAGES, type PassStage, type SyncReport } from "../sync/engine.ts";
import { removeLeftoverTemps } from "../targets/leftovers.ts";
import { createWatchService, type WatchDeps } from "./service.ts";

export interface DaemonDeps extends ReloadDeps, Pick<WatchDeps, "watcher" | "mounts" | "fault"> {
  random: () => number;
  check: CheckDeps;
  notify: (event: NotifyEvent) => Promise<unknown>;
}

/**
 * `watch` as a whole: the watcher's passes, then per pass the gateway reload, the refresh scheduler's bookkeeping
 * (dead login, failure streaks, notifications) and pushes to other hosts. Every stage is guarded: a failure is
 * logged and counted, and the service carries on.
 */
export function createDaemon(config: Config, deps: DaemonDeps) {
  const failures = Object.fromEntries(PASS_STAGES.map((stage) => [stage, 0])) as Record<PassStage, number>;
  let stateStreak: Streak = emptyStreak();

  async function guard(stage: PassStage, fn: () => unknown): Promise<void> {
    try {
      deps.fault?.(stage);
      await fn();
    } catch (error) {
      failures[stage]++;
      logger.error(`${stage}: ${oneLine(error)} (the service carries on)`);
    }
  }

  /** The state file could not be written: syncing goes on; a lasting failure is a message, then reminders. */
  async function noteState(report: SyncReport) {
    if (!report.stateError) {
      const r = onSuccess(stateStreak);
      if (stateStreak.count > 0) logger.info(`state: ${config.stateDir} is written again`);
      stateStreak = r.streak;
      return;
    }
    if (stateStreak.lastError !== report.stateError) logger.error(`state: ${report.stateError}; syncing goes on`);
    const r = onFailure(stateStreak, report.stateError, deps.now(), config.notify.failureThreshold, config.notify.reminderHours * 3_600_000);
    stateStreak = r.streak;
    if (r.send) await deps.notify(failingEvent("state-failing", thisHost(config.notify.host), deps.now(), { count: r.streak.count, error: report.stateError }));
  }

  const reloads = createReloadScheduler(config, deps);
  const refresh = createRefreshService(config, { ...deps.check, notify: deps.notify, afterTrigger: () => service.afterTrigger() });
  const pushes = createPushScheduler({
    run: deps.run,
    now: deps.now,
    random: deps.random,
    stateDir: () => config.stateDir,
    notify: deps.notify,
    notifySettings: () => config.notify,
  });
  const service = createWatchService(config, {
    now: deps.now,
    run: deps.run,
    fault: deps.fault,
    onStageError: (stage) => void failures[stage]++,
    watcher: deps.watcher,
    mounts: deps.mounts,
    afterSync: async (report) => {
      // Not awaited: a slow webhook must not hold up the next pass or the reload.
      void guard("notify", async () => {
        await noteState(report);
        await refresh.onSync(report);
      });
      // Other hosts get the token on their own workers: a down host never holds up this pass or the others.
      await guard("push", () => report.source.ok && pushes.offer(sshTargets(config), report.source.credentials));
      await guard("reload", () => (report.reloadNeeded ? reloads.request() : report.ok ? reloads.retryIfOwed() : undefined));
    },
  });

  return {
    async start() {
      await reloads.resume();
      // A writer killed mid-write (SIGKILL, power loss) leaves its temp file: ours, by name, removed before we start.
      const leftovers = await removeLeftoverTemps(config).catch(() => []);
      if (leftovers.length) logger.info(`removed ${leftovers.length} temp file(s) an earlier run left behind: ${leftovers.join(", ")}`);
      await service.start();
      refresh.start();
    },
    async stop() {
      pushes.stop();
      await service.stop();
      await refresh.stop();
      await reloads.stop();
    },
    /** Failures per stage since start (each was logged and the service carried on). */
    get failures(): Readonly<Record<PassStage, number>> {
      return failures;
    },
    get passes() {
      return service.syncCount;
    },
    get reloads() {
      return reloads.reloads;
    },
  };
}
