import { logger } from "../log/logger.ts";
import { VERSION } from "../version.ts";
import { failingEvent, pushFailingEvent, thisHost, tokenFormatEvent, type NotifyEvent } from "./event.ts";
import { emptyStreak, onFailure, onSuccess, type Streak } from "./policy.ts";

/**
 * What can fail again and again: the sync pass, the gateway reload, the state record, a push to one host, and a token
 * in a format this release does not accept (said at once: no streak to wait for).
 */
export type AlertKey = "sync" | "reload" | "state" | "token-format" | `push:${string}`;

export type AlertOutcome =
  | { ok: true }
  /** `failures`: failures in a row as the reporter knows them (restored from the state file after a restart). */
  | { ok: false; error: string; failures?: number };

export interface AlertsDeps {
  now: () => number;
  notify: (event: NotifyEvent) => Promise<unknown>;
  /** Read at every outcome: a config reloaded by SIGHUP builds a new keeper anyway. */
  settings: () => { failureThreshold: number; reminderHours: number; host?: string };
}

export interface Alerts {
  record(key: AlertKey, outcome: AlertOutcome): Promise<void>;
}

function event(key: AlertKey, host: string, at: number, count: number, error: string): NotifyEvent {
  if (key === "token-format") return tokenFormatEvent(host, at, { message: error, version: VERSION });
  if (key.startsWith("push:")) return pushFailingEvent(host, at, { target: key.slice("push:".length), count, error });
  return failingEvent(`${key as "sync" | "reload" | "state"}-failing`, host, at, { count, error });
}

const RECOVERED: Record<string, string> = {
  sync: "sync works again",
  reload: "the gateway reload works again",
  state: "the state record is written again",
  "token-format": "the token's format is accepted again",
};

/**
 * The one owner of failure streaks: fed the outcome of every pass, reload and push, it sends the first message when a
 * streak reaches the threshold, a reminder every `reminderHours` while it lasts, and logs the end of a streak a person
 * heard about. A webhook that fails is logged by the sender and never stops the caller.
 */
export function createAlerts(deps: AlertsDeps): Alerts {
  const streaks = new Map<AlertKey, Streak>();
  return {
    async record(key, outcome) {
      const streak = streaks.get(key) ?? emptyStreak();
      if (outcome.ok) {
        if (streak.count === 0) return;
        streaks.delete(key);
        if (onSuccess(streak).wasNotified) logger.info(RECOVERED[key] ?? `${key.slice("push:".length)}: pushing works again`);
        return;
      }
      const settings = deps.settings();
      const known = { ...streak, count: Math.max(streak.count, (outcome.failures ?? 0) - 1) };
      const threshold = key === "token-format" ? 1 : settings.failureThreshold;
      const r = onFailure(known, outcome.error, deps.now(), threshold, settings.reminderHours * 3_600_000);
      streaks.set(key, r.streak);
      if (r.send) await deps.notify(event(key, thisHost(settings.host), deps.now(), r.streak.count, outcome.error)).catch(() => undefined);
    },
  };
}

/** Nobody to tell (one-shot verbs: their exit code and log line are the message). */
export const noAlerts: Alerts = { record: async () => {} };
