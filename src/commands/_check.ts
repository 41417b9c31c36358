import type { Config } from "../config/schema.ts";
import { formatTime } from "../credentials/parse.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { reloadOnce } from "../gateway/scheduler.ts";
import { logger, print } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { checkExitCode, checkOnce, type CheckOptions } from "../refresh/check.ts";
import { notifier, realCheckDeps } from "../refresh/deps.ts";
import { readLogin } from "../refresh/inspect.ts";
import { noticeRecovery, reportDeadLogin } from "../refresh/reauth.ts";
import { syncOnce } from "../sync/engine.ts";
import { formatRemaining, logReport } from "../sync/report.ts";

/** `check` and `refresh`: one check, its consequences (flag, notifications, sync), and the exit code. */
export async function runCheck(config: Config, options: CheckOptions & { sync: boolean }): Promise<number> {
  const notify = notifier(() => config);
  const result = await checkOnce(config, realCheckDeps, options);
  const now = Date.now();
  let syncNeeded = false;
  switch (result.status) {
    case "ok": {
      print(`token expires ${formatTime(result.expiresAt)} (in ${formatRemaining(result.expiresAt - now)}); next refresh due ${formatTime(result.dueAt)} (in ${formatRemaining(result.dueAt - now)})`);
      // A fresh login may have appeared while no service was running.
      syncNeeded = await noticeRecovery(config, await readLogin(config.credentials), { now: Date.now, notify });
      break;
    }
    case "refreshed":
      logger.success(`refreshed: token ${result.fingerprint}, expires ${formatTime(result.expiresAt)} (${result.detail})`);
      await noticeRecovery(config, await readLogin(config.credentials), { now: Date.now, notify });
      syncNeeded = true;
      break;
    case "transient":
      logger.warn(`refresh failed, try again later: ${result.message}`);
      break;
    case "reauth":
      await reportDeadLogin(config, result.message, result.deadRefreshFingerprint, { now: Date.now, notify });
      break;
    case "misconfigured":
      logger.error(result.message);
      break;
  }
  if (syncNeeded && options.sync) await syncAndReload(config);
  return checkExitCode(result);
}

/** The backstop timer may run while the service is down: bring the targets along. */
async function syncAndReload(config: Config) {
  const report = await syncOnce(config, { now: Date.now, run: runProcess });
  logReport(report);
  if (report.reloadNeeded && config.gateway.kind !== "none") {
    const reload = await reloadOnce(config.gateway, config.stateDir, realReloadDeps);
    if (reload.ok) logger.success(`gateway: ${reload.detail}`);
    else logger.error(`gateway reload failed: ${reload.error}`);
  }
}
