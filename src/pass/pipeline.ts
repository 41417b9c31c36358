import type { Config } from "../config/schema.ts";
import type { ClaudeCredentials } from "../credentials/parse.ts";
import type { Change } from "../gateway/debt.ts";
import type { ReloadResult } from "../gateway/types.ts";
import { fingerprint } from "../log/redact.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import type { Alerts } from "../notify/alerts.ts";
import { sshTargetId, type SshTargetConfig } from "../config/ssh.ts";
import type { PushOutcome } from "../push/scheduler.ts";
import { sshTargets } from "../push/targets.ts";
import { syncFrom, type PassSource, type PassStage, type SyncDeps, type SyncReport } from "../sync/engine.ts";
import type { PassPolicy } from "./policy.ts";

/**
 * The reloads after a pass. A change is placed among the reloads of every process by the numbers read before and
 * after the pass's writes (src/gateway/debt.ts): a reload that started after them saw what the pass wrote.
 */
export interface ReloadEffects {
  /** The number of the last reload started, by any process. */
  mark(): Promise<number>;
  /**
   * Reload now for `change` and record it, unless a good reload has paid it; `covers`: the token every target holds
   * (the pass left them so). Undefined: there is no gateway to reload (a debt left by an earlier config is dropped).
   */
  now(change: Change, covers?: string): Promise<ReloadResult | undefined>;
  /** A reload owed from earlier (the state file). */
  owed(): Promise<Change | undefined>;
  /** The resident scheduler: a target the gateway reads changed. */
  request(change: Change): Promise<void> | void;
  /** The resident scheduler: a good pass; a reload still owed (its own, or left in the state file) is tried now. */
  retryIfOwed(): Promise<void> | void;
}

export interface PushEffects {
  /** Hand the token to the push workers and return at once. */
  offer(hosts: SshTargetConfig[], credentials: ClaudeCredentials): void;
  /** Push to every host at once and wait for each (each bounded by its own timeout). */
  everywhere(hosts: SshTargetConfig[], credentials: ClaudeCredentials): Promise<PushOutcome[]>;
}

export interface PassEffects {
  sync: SyncDeps;
  reloads: ReloadEffects;
  pushes: PushEffects;
  alerts: Alerts;
  /** Logs a pass (the resident service remembers what it logged: src/sync/report.ts). */
  log: (report: SyncReport) => void;
}

export interface PassOutcome {
  report: SyncReport;
  /** Set when the policy reloaded now and there was a gateway to reload. */
  reload?: ReloadResult;
  /** Set when the policy awaited the pushes. */
  pushes?: PushOutcome[];
}

/**
 * One pass and everything that follows it, for every verb and the service: sync the targets from `source`, log, feed
 * the alerts keeper, push and reload as the policy says. A failure in any stage is contained (logged, counted through
 * `onStageError`), so the pass always ends with an outcome; exit codes are computed from it at the edge
 * (src/commands/_edge.ts).
 */
export async function runPass(config: Config, source: PassSource, policy: PassPolicy, effects: PassEffects): Promise<PassOutcome> {
  // Before the writes and at once after them: where this pass's change stands among the reloads.
  const from = policy.reload === "skip" ? undefined : await effects.reloads.mark();
  const report = await syncFrom(config, source, effects.sync);
  const token = report.source.ok && (report.reloadNeeded || policy.reload === "now") ? fingerprint(report.source.credentials.accessToken) : undefined;
  const change = report.reloadNeeded && from !== undefined ? { since: await effects.reloads.mark(), from, token } : undefined;
  const stage = async <T>(name: PassStage, fn: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      effects.sync.fault?.(name);
      return await fn();
    } catch (error) {
      effects.sync.onStageError?.(name, oneLine(error));
      logger.error(`${name}: ${oneLine(error)} (the pass carries on)`);
      return undefined;
    }
  };
  effects.log(report);
  // Not awaited: a slow webhook must not hold up the pushes, the reload or the next pass.
  void stage("notify", () => recordAlerts(report, effects.alerts));

  const credentials = report.source.ok ? report.source.credentials : undefined;
  const hosts = sshTargets(config);
  // Started, not awaited here: the pushes run while the gateway reloads. A push that blew up is every host's failure.
  const pushing = await stage("push", () => {
    if (!credentials || policy.push === "skip") return undefined;
    if (policy.push === "offer") return void effects.pushes.offer(hosts, credentials);
    if (!hosts.length) return undefined;
    // Wrapped, so that stage() does not wait for it.
    const all = effects.pushes.everywhere(hosts, credentials).catch((error: unknown): PushOutcome[] => {
      effects.sync.onStageError?.("push", oneLine(error));
      return hosts.map((host) => ({ id: sshTargetId(host), result: { kind: "retry", error: `push: ${oneLine(error)}` }, record: {}, ms: 0 }));
    });
    return { all };
  });
  const reload = await stage("reload", () => reloadAfter(report, change, report.ok ? token : undefined, policy, effects.reloads));
  const pushed = pushing ? await pushing.all : undefined;
  for (const push of pushed ?? []) {
    if (push.result.kind === "held") logger.success(`${push.id}: holds token ${push.record.fingerprint} (${push.result.detail}, ${push.ms} ms)`);
    else logger.error(`${push.id}: ${push.result.error}`);
  }
  return { report, ...(reload ? { reload } : {}), ...(pushed ? { pushes: pushed } : {}) };
}

async function reloadAfter(report: SyncReport, change: Change | undefined, covers: string | undefined, policy: PassPolicy, reloads: ReloadEffects): Promise<ReloadResult | undefined> {
  if (policy.reload === "schedule") {
    if (change) await reloads.request(change);
    else if (report.ok) await reloads.retryIfOwed();
    return undefined;
  }
  if (policy.reload !== "now" || !report.source.ok) return undefined;
  const owed = change ?? (await reloads.owed());
  if (!owed) return undefined;
  const result = await reloads.now(owed, covers);
  if (result?.ok && result.covered) logger.info(`gateway: ${result.detail}`);
  else if (result?.ok) logger.success(`gateway: ${result.detail}`);
  else if (result) logger.error(`gateway reload failed: ${result.error}`);
  return result;
}

/**
 * The pass's outcomes for the alerts keeper. A half-written or blanked file is not a failing sync (a dead login is the
 * refresh bookkeeping's); a token in a format this release does not accept has its own message, at once.
 */
async function recordAlerts(report: SyncReport, alerts: Alerts): Promise<void> {
  await alerts.record("state", report.stateError ? { ok: false, error: report.stateError } : { ok: true });
  const source = report.source;
  if (!source.ok && source.reason === "unrecognised-token") return alerts.record("token-format", { ok: false, error: source.message });
  if (source.ok) await alerts.record("token-format", { ok: true });
  if (report.ok) return alerts.record("sync", { ok: true });
  if (!source.ok && (source.reason === "malformed" || source.reason === "logged-out")) return;
  const error = source.ok ? (report.outcomes.find((o) => o.status === "failed")?.message ?? "a target failed") : source.message;
  await alerts.record("sync", { ok: false, error });
}
