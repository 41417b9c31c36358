import { logger } from "../log/logger.ts";
import { fingerprint } from "../log/redact.ts";
import type { SyncReport } from "./engine.ts";

export function formatRemaining(ms: number): string {
  if (ms <= 0) return "expired";
  const minutes = Math.floor(ms / 60000);
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours}h${String(minutes % 60).padStart(2, "0")}m` : `${minutes}m`;
}

/** A problem that lasts is logged again at most this often (and with every new token), with how often it happened. */
export const REPEAT_EVERY_MS = 10 * 60_000;

interface Problem {
  message: string;
  /** The token the pass that last logged it was bringing (a new token logs the problem again). */
  token?: string;
  loggedAt: number;
  since: number;
  /** Passes that found it, since it appeared. */
  count: number;
}

/** When to log a problem again: first seen, changed, a new token, or `repeatMs` after it was last logged. */
export function problemMemory(repeatMs = REPEAT_EVERY_MS) {
  const problems = new Map<string, Problem>();
  return {
    /** The line's suffix when it is to be logged now; undefined: stay quiet (debug). */
    seen(key: string, message: string, token: string | undefined, now: number): string | undefined {
      const known = problems.get(key);
      if (!known || known.message !== message) {
        problems.set(key, { message, token, loggedAt: now, since: now, count: 1 });
        return "";
      }
      known.count++;
      if (known.token === token && now - known.loggedAt < repeatMs) return undefined;
      known.token = token;
      known.loggedAt = now;
      return ` (still failing: ${known.count} passes since ${new Date(known.since).toISOString()})`;
    },
    /** The problem is over: true when it had been logged (its end is logged too). */
    over: (key: string) => problems.delete(key),
  };
}

export type ProblemMemory = ReturnType<typeof problemMemory>;

/**
 * Log one sync pass. With `memory` (the resident service), a problem is logged when it first appears or changes, again
 * with each new token and at most every REPEAT_EVERY_MS while it lasts (with a count), and its end is logged too;
 * without, everything is logged (a one-shot verb).
 */
export function logReport(report: SyncReport, memory?: ProblemMemory, now = Date.now()): void {
  const problem = (key: string, message: string, token?: string) => {
    const suffix = memory ? memory.seen(key, message, token, now) : "";
    if (suffix === undefined) logger.debug(message);
    else logger.error(`${message}${suffix}`);
  };
  if (report.stateError) problem("state", `state: ${report.stateError}; syncing goes on`);
  else if (memory?.over("state")) logger.info("state: the record is written again");
  if (!report.source.ok) return problem("source", report.source.message);
  memory?.over("source");
  const { accessToken, expiresAt } = report.source.credentials;
  const fp = fingerprint(accessToken);
  const token = `token ${fp} (expires in ${formatRemaining(expiresAt - now)})`;
  for (const outcome of report.outcomes) {
    if (outcome.status === "written") logger.success(`${outcome.id}: updated to ${token}`);
    else if (outcome.status === "unchanged") logger.debug(`${outcome.id}: already holds ${token}`);
    else problem(outcome.id, `${outcome.id}: ${outcome.message ?? outcome.status}`, fp);
    if ((outcome.status === "written" || outcome.status === "unchanged") && memory?.over(outcome.id)) logger.info(`${outcome.id}: recovered, holds ${token}`);
  }
}
