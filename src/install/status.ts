import { stat } from "node:fs/promises";
import type { Config } from "../config/schema.ts";
import { readCredentials } from "../credentials/read.ts";
import { fingerprint } from "../log/redact.ts";
import type { ProcessRunner } from "../process/run.ts";
import { flagFile } from "../refresh/reauth.ts";
import { loadState } from "../sync/state.ts";
import { formatRemaining } from "../sync/report.ts";
import { targetId } from "../targets/types.ts";
import { systemctlEnv } from "./install.ts";
import { askOpenClaw, type OpenClawView } from "./openclaw-report.ts";

export interface StatusReport {
  healthy: boolean;
  problems: string[];
  credentials: { path: string; fingerprint?: string; expiresAt?: string; timeLeft?: string; problem?: string };
  targets: Array<{ id: string; holdsCurrent: boolean; fingerprint?: string; syncedAt?: string; lastError?: string }>;
  gateway: { kind: string; pending: boolean; lastReloadAt?: string; lastError?: string };
  units: { service: string; timer: string; nextCheck?: string };
  reauthFlag: { path: string; present: boolean };
  /** Passes by a safety net that found a rotation the watcher missed (should stay 0). */
  watch: { missedRotations: number; lastMissedAt?: string; lastMissedBy?: string };
  openclaw: OpenClawView[];
}

/** Everything a person asks when the agents fail: gathered from the credentials, the state file and systemd. */
export async function gatherStatus(config: Config, deps: { run: ProcessRunner; now: number; systemctl: string[] }): Promise<StatusReport> {
  const problems: string[] = [];
  const source = await readCredentials(config.credentials, deps.now);
  const current = source.ok ? fingerprint(source.credentials.accessToken) : undefined;
  const credentials: StatusReport["credentials"] = source.ok
    ? {
        path: config.credentials,
        fingerprint: current,
        expiresAt: new Date(source.credentials.expiresAt).toISOString(),
        timeLeft: formatRemaining(source.credentials.expiresAt - deps.now),
      }
    : { path: config.credentials, problem: source.message };
  if (!source.ok) problems.push(source.message);

  const state = await loadState(config.stateDir);
  const targets = config.targets.map((target) => {
    const id = targetId(target);
    const record = state.targets[id] ?? {};
    const holdsCurrent = current !== undefined && record.fingerprint === current;
    if (record.lastError) problems.push(`${id}: ${record.lastError}`);
    else if (current && !holdsCurrent) problems.push(`${id} does not hold the current token ${current} yet`);
    return { id, holdsCurrent, fingerprint: record.fingerprint, syncedAt: record.syncedAt, lastError: record.lastError };
  });

  const gateway = { kind: config.gateway.kind, pending: Boolean(state.gateway?.pending), lastReloadAt: state.gateway?.lastReloadAt, lastError: state.gateway?.lastError };
  if (gateway.pending) problems.push(`a gateway reload is owed${gateway.lastError ? `: ${gateway.lastError}` : ""}`);

  const show = async (...args: string[]) => (await deps.run([...deps.systemctl, ...args], { env: systemctlEnv(), timeoutMs: 15_000 })).stdout.trim();
  const units = {
    service: (await show("is-active", "oauth-sync.service")) || "unknown",
    timer: (await show("is-active", "oauth-sync-check.timer")) || "unknown",
    nextCheck: (await show("show", "-p", "NextElapseUSecRealtime", "--value", "oauth-sync-check.timer")) || undefined,
  };
  if (units.service !== "active") problems.push(`oauth-sync.service is ${units.service}: \`systemctl status oauth-sync\``);
  if (units.timer !== "active") problems.push(`oauth-sync-check.timer is ${units.timer}`);

  const flag = flagFile(config);
  const reauthFlag = { path: flag, present: Boolean(await stat(flag).catch(() => undefined)) };
  if (reauthFlag.present) problems.unshift(`re-authentication needed (${flag}): run \`claude auth login\` where the CLI lives`);

  const openclaw = await askOpenClaw(config, deps.run);
  for (const view of openclaw) {
    if (view.error) problems.push(`OpenClaw (${view.source}) could not report: ${view.error}`);
    else if (view.status === "expired" || view.status === "missing") problems.push(`OpenClaw (${view.source}) reports its Anthropic profile ${view.status}`);
  }
  const watch = { missedRotations: state.watch?.missed ?? 0, lastMissedAt: state.watch?.lastMissedAt, lastMissedBy: state.watch?.lastMissedBy };
  return { healthy: problems.length === 0, problems, credentials, targets, gateway, units, reauthFlag, watch, openclaw };
}

export function formatStatus(report: StatusReport): string {
  const c = report.credentials;
  const lines = [
    c.fingerprint ? `token     ${c.fingerprint}, expires ${c.expiresAt} (in ${c.timeLeft})` : `token     unusable: ${c.problem}`,
    ...report.targets.map((t) => `target    ${t.holdsCurrent ? "ok  " : "STALE"} ${t.id}${t.syncedAt ? `, synced ${t.syncedAt}` : ""}${t.lastError ? `, error: ${t.lastError}` : ""}`),
    `gateway   ${report.gateway.kind}${report.gateway.lastReloadAt ? `, last reload ${report.gateway.lastReloadAt}` : ""}${report.gateway.pending ? ", reload OWED" : ""}`,
    `service   oauth-sync.service ${report.units.service}; oauth-sync-check.timer ${report.units.timer}${report.units.nextCheck ? `, next ${report.units.nextCheck}` : ""}`,
    `watcher   ${report.watch.missedRotations} rotation(s) missed by the watcher, caught by a safety net${report.watch.lastMissedAt ? ` (last ${report.watch.lastMissedAt}, ${report.watch.lastMissedBy})` : ""}`,
    `reauth    ${report.reauthFlag.present ? `NEEDED (${report.reauthFlag.path})` : "no"}`,
    ...report.openclaw.map((v) => `openclaw  ${v.source}: ${v.error ?? `${v.type} profile ${v.status}${v.expiresAt ? `, expires ${new Date(v.expiresAt).toISOString()}` : ""}`}`),
    report.healthy ? "healthy" : `problem: ${report.problems[0]}`,
  ];
  return lines.join("\n");
}
