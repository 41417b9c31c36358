import { logger } from "../log/logger.ts";
import { fingerprint } from "../log/redact.ts";
import type { SyncReport } from "./engine.ts";

export function formatRemaining(ms: number): string {
  if (ms <= 0) return "expired";
  const minutes = Math.floor(ms / 60000);
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours}h${String(minutes % 60).padStart(2, "0")}m` : `${minutes}m`;
}

/**
 * Log one sync pass. `lastLogged` keeps a resident service from repeating the same problem every tick:
 * a problem is logged when it first appears or changes, and its end is logged too.
 */
export function logReport(report: SyncReport, lastLogged?: Map<string, string>, now = Date.now()): void {
  const changedSince = (key: string, message: string) => {
    if (!lastLogged) return true;
    if (lastLogged.get(key) === message) return false;
    lastLogged.set(key, message);
    return true;
  };
  if (!report.source.ok) {
    if (changedSince("source", report.source.message)) logger.error(report.source.message);
    else logger.debug(report.source.message);
    return;
  }
  lastLogged?.delete("source");
  const { accessToken, expiresAt } = report.source.credentials;
  const token = `token ${fingerprint(accessToken)} (expires in ${formatRemaining(expiresAt - now)})`;
  for (const outcome of report.outcomes) {
    if (outcome.status === "written") logger.success(`${outcome.id}: updated to ${token}`);
    else if (outcome.status === "unchanged") logger.debug(`${outcome.id}: already holds ${token}`);
    else if (changedSince(outcome.id, outcome.message ?? outcome.status)) logger.error(`${outcome.id}: ${outcome.message}`);
    if (outcome.status === "written" || outcome.status === "unchanged") {
      if (lastLogged?.delete(outcome.id)) logger.info(`${outcome.id}: recovered, holds ${token}`);
    }
  }
}
