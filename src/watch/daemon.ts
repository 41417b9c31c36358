import type { Config } from "../config/schema.ts";
import { createReloadScheduler } from "../gateway/scheduler.ts";
import type { ReloadDeps } from "../gateway/types.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import { createAlerts } from "../notify/alerts.ts";
import type { NotifyEvent } from "../notify/event.ts";
import { runPass, type PassEffects } from "../pass/pipeline.ts";
import { POLICY } from "../pass/policy.ts";
import { createPushScheduler } from "../push/scheduler.ts";
import type { CheckDeps } from "../refresh/check.ts";
import { createRefreshService } from "../refresh/service.ts";
import { PASS_STAGES, type PassStage } from "../sync/engine.ts";
import { logReport, problemMemory } from "../sync/report.ts";
import { removeLeftoverTemps } from "../targets/leftovers.ts";
import { createWatchService, type WatchDeps } from "./service.ts";

export interface DaemonDeps extends ReloadDeps, Pick<WatchDeps, "watcher" | "mounts" | "fault" | "clock"> {
  random: () => number;
  check: CheckDeps;
  notify: (event: NotifyEvent) => Promise<unknown>;
}

/**
 * `watch` as a whole, wired once: the watch service's passes run the pipeline (src/pass/) with the watch policy
 * (the reload scheduled, the token offered to the push workers); the reload scheduler and the push workers report
 * their outcomes to the one alerts keeper; the refresh scheduler hears of every pass. Every stage is guarded: a
 * failure is logged and counted, and the service carries on.
 */
export function createDaemon(config: Config, deps: DaemonDeps) {
  const failures = Object.fromEntries(PASS_STAGES.map((stage) => [stage, 0])) as Record<PassStage, number>;
  const onStageError = (stage: PassStage) => void failures[stage]++;
  const alerts = createAlerts({ now: deps.now, notify: deps.notify, settings: () => config.notify });

  const reloads = createReloadScheduler(config, {
    ...deps,
    // Not awaited: a slow webhook must not hold up the next attempt.
    onOutcome: (result, attempts) => void alerts.record("reload", result.ok ? { ok: true } : { ok: false, error: result.error, failures: attempts }),
  });
  const pushes = createPushScheduler({
    run: deps.run,
    now: deps.now,
    random: deps.random,
    stateDir: () => config.stateDir,
    onOutcome: ({ id, result }) => void alerts.record(`push:${id}`, result.kind === "held" ? { ok: true } : { ok: false, error: result.error }),
  });
  const refresh = createRefreshService(config, { ...deps.check, notify: deps.notify, afterTrigger: () => service.afterTrigger() });
  const memory = problemMemory();
  let reloadsStopped: Promise<void> | undefined;
  const effects: PassEffects = {
    sync: { now: deps.now, run: deps.run, fault: deps.fault, onStageError },
    reloads: {
      mark: () => reloads.mark(),
      now: async () => undefined,
      owed: async () => undefined,
      request: (change) => reloads.request(change),
      retryIfOwed: () => reloads.retryIfOwed(),
    },
    pushes: { offer: (hosts, credentials) => pushes.offer(hosts, credentials), everywhere: async () => [] },
    alerts,
    log: (report) => logReport(report, memory, deps.now()),
  };
  const service = createWatchService(config, {
    now: deps.now,
    run: deps.run,
    fault: deps.fault,
    onStageError,
    watcher: deps.watcher,
    mounts: deps.mounts,
    clock: deps.clock,
    async pass(source) {
      const { report } = await runPass(config, source, POLICY.watch, effects);
      // The dead login and its recovery (flag file, messages); not awaited: a slow webhook holds up nothing.
      void refresh.onSync(report).catch((error) => {
        failures.notify++;
        logger.error(`notify: ${oneLine(error)} (the service carries on)`);
      });
      return report;
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
    /** Every part stops taking requests at once (no timer of one fires while another stops), then each ends its run. */
    async stop() {
      reloadsStopped = reloads.stop();
      await Promise.all([pushes.stop(), service.stop(), refresh.stop(), reloadsStopped]);
    },
    /**
     * Resolves once a gateway reload under way at stop has ended (bounded by the gateway's own timeout): a service built
     * anew after a SIGHUP must not start a second `docker compose up` beside it.
     */
    reloadEnded(): Promise<void> {
      return reloadsStopped ?? Promise.resolve();
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
    /** The watch service (its safety nets, whether the watch holds). */
    get service() {
      return service;
    },
  };
}
