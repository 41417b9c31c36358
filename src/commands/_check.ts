import type { Config } from "../config/schema.ts";
import { formatTime } from "../credentials/parse.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { logger, print } from "../log/logger.ts";
import { oneShotEffects } from "../pass/effects.ts";
import { runPass } from "../pass/pipeline.ts";
import { POLICY } from "../pass/policy.ts";
import { runProcess } from "../process/run.ts";
import { checkOnce, type CheckOptions, type CheckResult } from "../refresh/check.ts";
import { notifier, realCheckDeps } from "../refresh/deps.ts";
import { readLogin } from "../refresh/inspect.ts";
import { noticeRecovery, reportDeadLogin } from "../refresh/reauth.ts";
import { readSource } from "../sync/engine.ts";
import { formatRemaining } from "../sync/report.ts";

/** `check` and `refresh`: one check and its consequences (flag, notifications, a pass); the verb turns it into an exit code. */
export async function runCheck(config: Config, options: CheckOptions & { sync: boolean }): Promise<CheckResult> {
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
  // The backstop timer may run while the service is down: the same pass as `sync` (targets, reload, other hosts).
  if (syncNeeded && options.sync) {
    const effects = oneShotEffects(config, { now: Date.now, run: runProcess, reload: realReloadDeps });
    await runPass(config, await readSource(config.credentials, effects.sync), POLICY.check, effects);
  }
  return result;
}
