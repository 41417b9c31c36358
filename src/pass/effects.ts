import type { Config } from "../config/schema.ts";
import { changeMark, dropOwedReload, reloadFor, reloadOwed } from "../gateway/scheduler.ts";
import type { ReloadDeps } from "../gateway/types.ts";
import { noAlerts } from "../notify/alerts.ts";
import type { ProcessRunner } from "../process/run.ts";
import { pushEverywhere } from "../push/scheduler.ts";
import { logReport } from "../sync/report.ts";
import type { PassEffects, ReloadEffects } from "./pipeline.ts";

/**
 * Reload now, once, recorded in the state file, unless another process's reload already followed the change: what
 * the verbs do (no gateway: a debt from an earlier config is dropped).
 */
export function reloadNow(config: Config, deps: ReloadDeps): ReloadEffects {
  return {
    mark: () => changeMark(config.stateDir),
    async now(change, covers) {
      if (config.gateway.kind === "none") return void (await dropOwedReload(config.stateDir));
      return reloadFor(config.gateway, config.stateDir, change, deps, covers);
    },
    owed: () => reloadOwed(config.stateDir),
    request() {},
    retryIfOwed() {},
  };
}

/** The effects of a one-shot verb (`sync`, `check`, `receive`): reload now, push and wait, nobody to alert. */
export function oneShotEffects(config: Config, deps: { now: () => number; run: ProcessRunner; reload: ReloadDeps; force?: boolean }): PassEffects {
  return {
    sync: { now: deps.now, run: deps.run, force: deps.force },
    reloads: reloadNow(config, deps.reload),
    pushes: {
      offer() {},
      // `sync --force` makes each host replace what it holds, as it makes the local targets.
      everywhere: (hosts, credentials) => pushEverywhere(hosts, credentials, { run: deps.run, now: deps.now, stateDir: () => config.stateDir }, { force: deps.force }),
    },
    alerts: noAlerts,
    log: (report) => logReport(report),
  };
}
