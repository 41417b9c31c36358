import type { Config } from "../config/schema.ts";
import { formatTime } from "../credentials/parse.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import { serialRunner, type Clock } from "../schedule/runner.ts";
import type { NotifyEvent } from "../notify/event.ts";
import type { SyncReport } from "../sync/engine.ts";
import { formatRemaining } from "../sync/report.ts";
import { fileIdentity } from "../fs/identity.ts";
import { loadState, stateFile } from "../state/store.ts";
import { checkOnce, type CheckDeps } from "./check.ts";
import { readLogin, type Login } from "./inspect.ts";
import { BLANK, noticeRecovery, reportDeadLogin, stillDead } from "./reauth.ts";
import { reauthSection, refreshSection } from "./record.ts";
import { nextStep } from "./window.ts";

export interface RefreshServiceDeps extends CheckDeps {
  notify: (event: NotifyEvent) => Promise<unknown>;
  /** After each trigger ran (whatever its result): the watch service makes sure a rotation lands. */
  afterTrigger?: () => void;
  /** Longest sleep between looks at the wall clock (default 5 min): bounds the lateness after a suspend. */
  maxSleepMs?: number;
  /** The runner's timers (a fake clock in tests). */
  clock?: Clock;
  /** How the CLI's file is read (a counting reader in tests). */
  readLogin?: (file: string) => Promise<Login>;
}

const BLANKED_REASON = "Claude Code's refresh token was rejected (invalid_grant): the CLI blanked its credentials";

/**
 * The in-service refresh scheduler: triggers the refresh at expiry minus the window, retries until the token is
 * fresh, and handles the dead login (flag file, messages, recovery). Failure streaks are the alerts keeper's
 * (src/notify/alerts.ts).
 */
export function createRefreshService(config: Config, deps: RefreshServiceDeps) {
  let lastTriggerAt: number | undefined;
  let announced: number | undefined;
  let triggers = 0;
  const maxSleepMs = deps.maxSleepMs ?? 300_000;
  const read = deps.readLogin ?? readLogin;
  /**
   * The last look that found a live login and no dead one on record, keyed by the identities of the CLI's file and of
   * the state record then. The service wakes every few minutes for months: while neither file changed, a look is two
   * stats and the clock, not a walk, a read, a parse and two hashes of the login and a read of the record.
   */
  let settled: { key: string; login: Login } | undefined;

  const runner = serialRunner(tick, {
    clock: deps.clock,
    onError: (error) => {
      logger.error(`refresh scheduler: ${oneLine(error)}`);
      schedule(deps.now() + maxSleepMs);
    },
  });
  const schedule = (at: number) => runner.runIn(at - deps.now());
  const wake = runner.runNow;

  /** Reads the login and the record, and handles a dead login or its recovery. */
  async function look(): Promise<{ login: Login; dead: boolean }> {
    const login = await read(config.credentials);
    const state = await loadState(config.stateDir);
    const reauth = reauthSection.read(state);
    // A service started afresh (SIGHUP, a restart) keeps to the retry spacing of the trigger the last one ran.
    const recorded = Date.parse(refreshSection.read(state)?.lastTriggerAt ?? "");
    lastTriggerAt ??= Number.isFinite(recorded) ? recorded : undefined;
    const dead = login.kind === "blanked" || stillDead(login, reauth);
    if (dead) await reportDeadLogin(config, reauth?.reason ?? BLANKED_REASON, reauth?.deadRefreshFingerprint ?? BLANK, deps);
    else if (login.kind === "live") await noticeRecovery(config, login, deps);
    return { login, dead };
  }

  async function tick(): Promise<void> {
    // Taken before the look: a record the look itself writes makes the next look a full one, which then settles.
    const key = `${fileIdentity(config.credentials) ?? "-"} ${fileIdentity(stateFile(config.stateDir)) ?? "-"}`;
    const { login, dead } = settled?.key === key ? { login: settled.login, dead: false } : await look();
    settled = login.kind === "live" && !dead ? { key, login } : undefined;
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

  return {
    start() {
      wake();
    },
    /**
     * After every sync pass: a blanked file is a dead login at once; then a look at the login, which notices a
     * recovery and the expiry (one read of the file, not one here and one there).
     */
    async onSync(report: SyncReport) {
      if (!report.source.ok && report.source.reason === "logged-out") await reportDeadLogin(config, BLANKED_REASON, BLANK, deps);
      wake();
    },
    stop: () => runner.stop(),
    get triggers() {
      return triggers;
    },
  };
}
