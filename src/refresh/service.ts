import type { Config } from "../config/schema.ts";
import { formatTime } from "../credentials/parse.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import { serialRunner } from "../schedule/runner.ts";
import { failingEvent, thisHost, tokenFormatEvent, type NotifyEvent } from "../notify/event.ts";
import { emptyStreak, onFailure, onSuccess, type Streak } from "../notify/policy.ts";
import type { SyncReport } from "../sync/engine.ts";
import { formatRemaining } from "../sync/report.ts";
import { loadState } from "../state/store.ts";
import { checkOnce, type CheckDeps } from "./check.ts";
import { readLogin } from "./inspect.ts";
import { BLANK, noticeRecovery, reportDeadLogin, stillDead } from "./reauth.ts";
import { nextStep } from "./window.ts";
import { reminderDue } from "../notify/policy.ts";
import { VERSION } from "../version.ts";

export interface RefreshServiceDeps extends CheckDeps {
  notify: (event: NotifyEvent) => Promise<unknown>;
  /** After each trigger ran (whatever its result): the watch service makes sure a rotation lands. */
  afterTrigger?: () => void;
  /** Longest sleep between looks at the wall clock (default 5 min): bounds the lateness after a suspend. */
  maxSleepMs?: number;
}

const BLANKED_REASON = "Claude Code's refresh token was rejected (invalid_grant): the CLI blanked its credentials";

/**
 * The in-service refresh scheduler: triggers the refresh at expiry minus the window, retries until the token is
 * fresh, handles the dead login, and turns lasting sync/reload failures into notifications.
 */
export function createRefreshService(config: Config, deps: RefreshServiceDeps) {
  let lastTriggerAt: number | undefined;
  let announced: number | undefined;
  let syncStreak: Streak = emptyStreak();
  let formatStreak: Streak = emptyStreak();
  let reloadNotifiedAt: number | undefined;
  let triggers = 0;
  const maxSleepMs = deps.maxSleepMs ?? 300_000;

  const runner = serialRunner(tick, {
    onError: (error) => {
      logger.error(`refresh scheduler: ${oneLine(error)}`);
      schedule(deps.now() + maxSleepMs);
    },
  });
  const schedule = (at: number) => runner.runIn(at - deps.now());
  const wake = runner.runNow;

  async function tick() {
    const login = await readLogin(config.credentials);
    const state = await loadState(config.stateDir);
    // A service started afresh (SIGHUP, a restart) keeps to the retry spacing of the trigger the last one ran.
    lastTriggerAt ??= Number.isFinite(Date.parse(state.refresh?.lastTriggerAt ?? "")) ? Date.parse(state.refresh!.lastTriggerAt!) : undefined;
    const dead = login.kind === "blanked" || stillDead(login, state.reauth);
    if (dead) await reportDeadLogin(config, state.reauth?.reason ?? BLANKED_REASON, state.reauth?.deadRefreshFingerprint ?? BLANK, deps);
    else if (login.kind === "live") await noticeRecovery(config, login, deps);
    await watchReloads(config, state.gateway);
    if (config.trigger.mode === "none") return schedule(deps.now() + maxSleepMs);

    const settings = {
      windowMs: config.refresh.windowSeconds * 1000,
      retryMs: config.refresh.retrySeconds * 1000,
      slowRetryMs: config.refresh.slowRetrySeconds * 1000,
      slowAfterMs: config.refresh.slowAfterSeconds * 1000,
      maxSleepMs,
    };
    const now = deps.now();
    const step = nextStep({ login, now, lastTriggerAt, reauthNeeded: dead }, settings);
    if (!step.act) {
      if (login.kind === "live" && announced !== login.expiresAt && login.expiresAt > now) {
        announced = login.expiresAt;
        const dueAt = login.expiresAt - settings.windowMs;
        logger.info(`token ${login.accessFingerprint} expires ${formatTime(login.expiresAt)}; refresh due ${formatTime(dueAt)} (in ${formatRemaining(dueAt - now)})`);
      }
      return schedule(step.wakeAt);
    }
    lastTriggerAt = now;
    triggers++;
    if (login.kind === "live") {
      const left = login.expiresAt - now;
      logger.info(`token ${login.accessFingerprint} ${left > 0 ? `expires in ${Math.round(left / 1000)} s` : "has expired"}: asking ${config.trigger.mode === "direct" ? "the token endpoint" : "Claude Code"} to refresh`);
    }
    const result = await checkOnce(config, deps);
    deps.afterTrigger?.();
    switch (result.status) {
      case "refreshed":
        logger.success(`refreshed: token ${result.fingerprint}, expires ${formatTime(result.expiresAt)} (${result.detail})`);
        break;
      case "transient":
        logger.warn(`refresh did not happen: ${result.message}; next try in ${config.refresh.retrySeconds} s`);
        break;
      case "reauth":
        await reportDeadLogin(config, result.message, result.deadRefreshFingerprint, deps);
        break;
      case "misconfigured":
        logger.error(`refresh trigger: ${result.message}`);
        break;
    }
    // Look again at once: a refreshed token is outside the window now, a failed one waits for its retry time.
    schedule(deps.now());
  }

  /** A gateway reload failing again and again (its attempts are in the state file): a message, then reminders. */
  async function watchReloads(config: Config, gateway: { pending?: boolean; attempts?: number; lastError?: string } | undefined) {
    const attempts = gateway?.pending ? (gateway.attempts ?? 0) : 0;
    if (attempts < config.notify.failureThreshold) {
      if (attempts === 0) reloadNotifiedAt = undefined;
      return;
    }
    const now = deps.now();
    if (!reminderDue(reloadNotifiedAt, now, config.notify.reminderHours * 3_600_000)) return;
    reloadNotifiedAt = now;
    await deps.notify(failingEvent("reload-failing", thisHost(config.notify.host), now, { count: attempts, error: gateway?.lastError ?? "unknown error" }));
  }

  return {
    start() {
      wake();
    },
    /** After every sync pass: dead login, recovery, failure streaks; then look at the expiry again. */
    async onSync(report: SyncReport) {
      if (!report.source.ok && report.source.reason === "logged-out") {
        await reportDeadLogin(config, BLANKED_REASON, BLANK, deps);
      } else if (report.source.ok) {
        await noticeRecovery(config, await readLogin(config.credentials), deps);
      }
      const halfWritten = !report.source.ok && (report.source.reason === "malformed" || report.source.reason === "logged-out");
      // A token refused for its format: said at once (no streak to wait for), then reminders; it has its own message.
      const unrecognised = !report.source.ok && report.source.reason === "unrecognised-token";
      if (!report.source.ok && unrecognised) {
        const r = onFailure(formatStreak, report.source.message, deps.now(), 1, config.notify.reminderHours * 3_600_000);
        formatStreak = r.streak;
        if (r.send) await deps.notify(tokenFormatEvent(thisHost(config.notify.host), deps.now(), { message: report.source.message, version: VERSION }));
      } else if (report.source.ok) formatStreak = emptyStreak();
      if (report.ok) {
        const r = onSuccess(syncStreak);
        syncStreak = r.streak;
        if (r.wasNotified) logger.info("sync works again");
      } else if (!halfWritten && !unrecognised) {
        const error = report.source.ok ? (report.outcomes.find((o) => o.status === "failed")?.message ?? "a target failed") : report.source.message;
        const r = onFailure(syncStreak, error, deps.now(), config.notify.failureThreshold, config.notify.reminderHours * 3_600_000);
        syncStreak = r.streak;
        if (r.send) await deps.notify(failingEvent("sync-failing", thisHost(config.notify.host), deps.now(), { count: r.streak.count, error }));
      }
      wake();
    },
    stop: () => runner.stop(),
    get triggers() {
      return triggers;
    },
  };
}
