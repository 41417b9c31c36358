import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { readCredentials } from "../credentials/read.ts";
import { fingerprint } from "../log/redact.ts";
import { outputLine } from "../log/sanitize.ts";
import type { ProcessRunner } from "../process/run.ts";
import { flagFile } from "../refresh/reauth.ts";
import { loadState, stateWriteProblem, stateWrittenAt, type State } from "../state/store.ts";
import { statSync } from "node:fs";
import { gatewaySection } from "../gateway/types.ts";
import { hostRecord, type PushState } from "../push/record.ts";
import { sourceSection, targetsSection } from "../sync/record.ts";
import { watchSection } from "../watch/record.ts";
import { formatRemaining } from "../sync/report.ts";
import { targetId } from "../targets/types.ts";
import { systemctlEnv } from "./install.ts";
import { askOpenClaw, type OpenClawView } from "../detect/openclaw-report.ts";

export interface StatusReport {
  healthy: boolean;
  problems: string[];
  credentials: { path: string; fingerprint?: string; expiresAt?: string; timeLeft?: string; problem?: string };
  /** `ssh` targets are other hosts: syncedAt is their last successful push, `push` their retries. */
  targets: Array<{ id: string; kind: string; holdsCurrent: boolean; fingerprint?: string; syncedAt?: string; lastError?: string; push?: { failures: number; nextRetryAt?: string; lastAnswer?: string } }>;
  gateway: { kind: string; pending: boolean; lastReloadAt?: string; lastError?: string };
  units: { service: string; timer: string; nextCheck?: string };
  reauthFlag: { path: string; present: boolean };
  /** Passes by a safety net that found a rotation the watcher missed (should stay 0); `blind`: the watch does not hold. */
  watch: { missedRotations: number; lastMissedAt?: string; lastMissedBy?: string; blind?: { since: string; reason: string } };
  /** Whether the service can record what it does; when it cannot, it keeps syncing and this report is old. */
  state: { dir: string; writable: boolean | "not checked"; writtenAt?: string; problem?: string };
  openclaw: OpenClawView[];
}

/** Everything a person asks when the agents fail: gathered from the credentials, the state file and systemd. */
export async function gatherStatus(config: Config, deps: { run: ProcessRunner; now: number; systemctl: string[] }): Promise<StatusReport> {
  const problems: string[] = [];
  const state = await loadState(config.stateDir);
  const { credentials, current } = config.source === "push" ? receivedToken(state, deps.now) : await followedToken(config, deps.now);
  if (credentials.problem) problems.push(credentials.problem);
  const targets = config.targets.map((target) => {
    const id = targetId(target);
    const record: PushState = (target.kind === "ssh" ? hostRecord(state, id) : targetsSection.read(state)?.[id]) ?? {};
    const holdsCurrent = current !== undefined && record.fingerprint === current;
    if (record.lastError) problems.push(`${id}: ${record.lastError}`);
    else if (current && !holdsCurrent) problems.push(`${id} does not hold the current token ${current} yet`);
    const push = target.kind === "ssh" ? { failures: record.failures ?? 0, nextRetryAt: record.nextRetryAt, lastAnswer: record.lastAnswer } : undefined;
    return { id, kind: target.kind, holdsCurrent, fingerprint: record.fingerprint, syncedAt: record.syncedAt, lastError: record.lastError, ...(push ? { push } : {}) };
  });

  const recorded = gatewaySection.read(state);
  // A reload owed under an earlier gateway config is not owed once the config says "none" (the service drops it).
  const pending = Boolean(recorded?.pending) && config.gateway.kind !== "none";
  const gateway = { kind: config.gateway.kind, pending, lastReloadAt: recorded?.lastReloadAt, lastError: recorded?.lastError };
  if (gateway.pending) problems.push(`a gateway reload is owed${gateway.lastError ? `: ${gateway.lastError}` : ""}`);

  const show = async (...args: string[]) => (await deps.run([...deps.systemctl, ...args], { env: systemctlEnv(), timeoutMs: 15_000 })).stdout.trim();
  const units = {
    service: (await show("is-active", "oauth-sync.service")) || "unknown",
    timer: (await show("is-active", "oauth-sync-check.timer")) || "unknown",
    nextCheck: (await show("show", "-p", "NextElapseUSecRealtime", "--value", "oauth-sync-check.timer")) || undefined,
  };
  // A receiving host runs no service: sshd starts `oauth-sync receive` for each push.
  if (config.source === "push") Object.assign(units, { service: "not used (receives by push)", timer: "not used" });
  else if (units.service !== "active") problems.push(`oauth-sync.service is ${units.service}: \`${deps.systemctl.join(" ")} status oauth-sync\``);
  if (config.source !== "push" && units.timer !== "active") problems.push(`oauth-sync-check.timer is ${units.timer}`);

  const flag = flagFile(config);
  const reauthFlag = { path: flag, present: Boolean(await stat(flag).catch(() => undefined)) };
  if (reauthFlag.present) problems.unshift(`re-authentication needed (${flag}): run \`claude auth login\` where the CLI lives`);

  const openclaw = await askOpenClaw(config, deps.run);
  for (const view of openclaw) {
    if (view.error) problems.push(`OpenClaw (${view.source}) could not report: ${view.error}`);
    else if (view.status === "expired" || view.status === "missing") problems.push(`OpenClaw (${view.source}) reports its Anthropic profile ${view.status}`);
  }
  const watched = watchSection.read(state);
  const watch = { missedRotations: watched?.missed ?? 0, lastMissedAt: watched?.lastMissedAt, lastMissedBy: watched?.lastMissedBy, ...(watched?.blind ? { blind: watched.blind } : {}) };
  if (watch.blind && config.source !== "push") problems.push(`the watch on ${dirname(config.credentials)} does not hold since ${watch.blind.since} (${watch.blind.reason}): the service looks at the file every second and keeps trying`);
  const record = await stateHealth(config.stateDir);
  if (record.problem) {
    problems.unshift(`the state file cannot be written (${record.problem}): the service keeps syncing, but this report is the record as of ${record.writtenAt ?? "never"}`);
  }
  return { healthy: problems.length === 0, problems, credentials, targets, gateway, units, reauthFlag, watch, state: record, openclaw };
}

/** Probed only by whoever could write it (root or the directory's owner): anyone else cannot tell. */
async function stateHealth(dir: string): Promise<StatusReport["state"]> {
  const writtenAt = stateWrittenAt(dir);
  const owner = statSync(dir, { throwIfNoEntry: false })?.uid;
  const euid = process.geteuid?.() ?? -1;
  if (owner !== undefined && euid !== 0 && euid !== owner) return { dir, writable: "not checked", writtenAt };
  const problem = await stateWriteProblem(dir);
  return { dir, writable: !problem, writtenAt, ...(problem ? { problem } : {}) };
}

async function followedToken(config: Config, now: number): Promise<{ credentials: StatusReport["credentials"]; current?: string }> {
  const source = await readCredentials(config.credentials, now);
  if (!source.ok) return { credentials: { path: config.credentials, problem: source.message } };
  const current = fingerprint(source.credentials.accessToken);
  return {
    current,
    credentials: { path: config.credentials, fingerprint: current, expiresAt: new Date(source.credentials.expiresAt).toISOString(), timeLeft: formatRemaining(source.credentials.expiresAt - now) },
  };
}

/** A receiving host's token is the last one pushed to it, as its state file records (fingerprint and expiry). */
function receivedToken(state: State, now: number): { credentials: StatusReport["credentials"]; current?: string } {
  const { fingerprint: fp, expiresAt } = sourceSection.read(state) ?? {};
  if (!fp || expiresAt === undefined) return { credentials: { path: "(pushed)", problem: "no token has been pushed to this host yet" } };
  const credentials = { path: "(pushed)", fingerprint: fp, expiresAt: new Date(expiresAt).toISOString(), timeLeft: formatRemaining(expiresAt - now) };
  if (expiresAt <= now) return { current: fp, credentials: { ...credentials, problem: `the pushed token ${fp} expired at ${credentials.expiresAt}: is the source host pushing?` } };
  return { current: fp, credentials };
}

/** Pure: the one state of a target or host line; an error wins over the token it holds. */
export function targetState(t: Pick<StatusReport["targets"][number], "holdsCurrent" | "lastError">): "ok" | "STALE" | "FAILING" {
  if (t.lastError) return "FAILING";
  return t.holdsCurrent ? "ok" : "STALE";
}

function targetLine(t: StatusReport["targets"][number]): string {
  const state = targetState(t);
  const when = t.syncedAt ? `, ${t.push ? "pushed" : "synced"} ${t.syncedAt}` : "";
  if (state !== "FAILING") return `${t.push ? "host      " : "target    "}${state === "ok" ? "ok   " : state} ${t.id}${when}`;
  const holds = t.holdsCurrent ? " (it holds the current token)" : "";
  const retry = t.push?.nextRetryAt ? `; retry ${t.push.nextRetryAt}` : "";
  return `${t.push ? "host      " : "target    "}FAILING ${t.id}: ${t.lastError}${holds}${retry}`;
}

function watcherLine(watch: StatusReport["watch"]): string {
  const blind = watch.blind ? `NOT WATCHING since ${watch.blind.since} (${watch.blind.reason}), looking at the file every second` : "";
  if (watch.missedRotations === 0) return `watcher   ${blind || "ok"}`;
  return `watcher   ${blind ? `${blind}; ` : ""}${watch.missedRotations} rotation(s) missed by the watcher and caught by a safety net${watch.lastMissedAt ? ` (last ${watch.lastMissedAt}, ${watch.lastMissedBy})` : ""}`;
}

/**
 * Pure: the report as lines for a person. Each line quotes text oauth-sync does not own (errors from targets,
 * gateways and OpenClaw, paths) and is made one safe line here: a newline or an escape in it cannot forge a line.
 */
export function formatStatus(report: StatusReport): string {
  const c = report.credentials;
  const lines = [
    c.fingerprint && !c.problem ? `token     ${c.fingerprint}${c.path === "(pushed)" ? " (pushed)" : ""}, expires ${c.expiresAt} (in ${c.timeLeft})` : `token     unusable: ${c.problem}`,
    ...report.targets.map(targetLine),
    `gateway   ${report.gateway.kind}${report.gateway.lastReloadAt ? `, last reload ${report.gateway.lastReloadAt}` : ""}${report.gateway.pending ? `, reload OWED${report.gateway.lastError ? `: ${report.gateway.lastError}` : ""}` : ""}`,
    `service   oauth-sync.service ${report.units.service}; oauth-sync-check.timer ${report.units.timer}${report.units.nextCheck ? `, next ${report.units.nextCheck}` : ""}`,
    watcherLine(report.watch),
    `state     ${report.state.dir}: ${report.state.writable === true ? "writable" : report.state.writable === false ? `CANNOT BE WRITTEN (${report.state.problem}); record as of ${report.state.writtenAt ?? "never"}` : "not checked (run as root)"}`,
    `reauth    ${report.reauthFlag.present ? `NEEDED (${report.reauthFlag.path})` : "no"}`,
    ...report.openclaw.map((v) => `openclaw  ${v.source}: ${v.error ?? `${v.type} profile ${v.status}${v.expiresAt ? `, expires ${new Date(v.expiresAt).toISOString()}` : ""}`}`),
    report.healthy ? "healthy" : `problem: ${report.problems[0]}${report.problems.length > 1 ? ` (and ${report.problems.length - 1} more: \`oauth-sync status --json\`)` : ""}`,
  ];
  return lines.map(outputLine).join("\n");
}
