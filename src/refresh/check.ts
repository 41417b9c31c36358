import type { Config } from "../config/schema.ts";
import { formatTime } from "../credentials/parse.ts";
import type { ProcessRunner } from "../process/run.ts";
import { loadState, stateWriteFailed } from "../state/store.ts";
import { reauthSection, refreshSection } from "./record.ts";
import { directRefresh, type DirectDeps } from "./direct/refresh.ts";
import { readLogin, type Login } from "./inspect.ts";
import { BLANK, stillDead } from "./reauth.ts";
import { describeRun, runCliTrigger } from "./trigger.ts";
import { judgeTrigger, refreshDue } from "./window.ts";

export type CheckResult =
  /** Outside the window: nothing was run, no request was sent. */
  | { status: "ok"; expiresAt: number; dueAt: number }
  | { status: "refreshed"; expiresAt: number; fingerprint: string; detail: string }
  /** Tried and the expiry did not move (no network, 5xx, the CLI skipped its refresh): try again soon. */
  | { status: "transient"; message: string }
  | { status: "reauth"; message: string; deadRefreshFingerprint: string }
  | { status: "misconfigured"; message: string };

export interface CheckDeps extends DirectDeps {
  run: ProcessRunner;
  /** Pause between CLI runs that did not refresh (the CLI sometimes skips its refresh). Default 1500 ms. */
  confirmDelayMs?: number;
}

export interface CheckOptions {
  /** Refresh even outside the window (`oauth-sync refresh --force`). */
  force?: boolean;
  /** Use the direct refresh whatever trigger.mode says (`oauth-sync refresh`). */
  direct?: boolean;
}

/**
 * One check: read the expiry; inside the window (or expired) make the refresher act and confirm from the file that
 * the expiry moved. Records the outcome in the state file. Never throws for an expected failure.
 */
export async function checkOnce(config: Config, deps: CheckDeps, options: CheckOptions = {}): Promise<CheckResult> {
  const result = await decideAndAct(config, deps, options);
  if (result.status !== "ok" && result.status !== "misconfigured") await record(config.stateDir, result, deps.now()).catch(stateWriteFailed);
  return result;
}

async function decideAndAct(config: Config, deps: CheckDeps, options: CheckOptions): Promise<CheckResult> {
  const windowMs = config.refresh.windowSeconds * 1000;
  const login = await readLogin(config.credentials);
  const due = refreshDue(login, deps.now(), windowMs);
  if (due.action === "reauth") return { status: "reauth", message: `${config.credentials} is blanked: the CLI's refresh token was rejected`, deadRefreshFingerprint: BLANK };
  if (due.action === "broken") {
    if (due.kind === "malformed") return { status: "transient", message: `${due.message} (half-written?)` };
    if (due.kind === "no-login") return { status: "reauth", message: due.message, deadRefreshFingerprint: BLANK };
    return { status: "misconfigured", message: due.message };
  }
  const reauth = reauthSection.read(await loadState(config.stateDir));
  if (stillDead(login, reauth)) {
    return { status: "reauth", message: reauth?.reason ?? "the login was rejected", deadRefreshFingerprint: reauth?.deadRefreshFingerprint ?? BLANK };
  }
  if (due.action === "wait" && !options.force) return { status: "ok", expiresAt: due.expiresAt, dueAt: due.dueAt };
  const live = login as Extract<Login, { kind: "live" }>;
  const mode = options.direct ? "direct" : config.trigger.mode;
  if (mode === "none") return { status: "misconfigured", message: `the token ${due.action === "wait" ? "is not due" : "needs a refresh"} but trigger.mode is "none"` };
  if (mode === "direct") return viaDirect(config, deps, options, windowMs);
  return viaCli(config, live, deps);
}

async function viaDirect(config: Config, deps: CheckDeps, options: CheckOptions, windowMs: number): Promise<CheckResult> {
  const settings =
    config.trigger.mode === "direct" ? config.trigger : { mode: "direct" as const, attempts: 4, timeoutSeconds: 30, lockStaleSeconds: 10, lockWaitSeconds: 30 };
  const r = await directRefresh(config.credentials, settings, windowMs, deps, options.force);
  switch (r.kind) {
    case "refreshed":
      return { status: "refreshed", expiresAt: r.expiresAt, fingerprint: r.fingerprint, detail: `direct refresh${r.warning ? ` (warning: ${r.warning})` : ""}` };
    case "not-needed":
      return { status: "ok", expiresAt: r.expiresAt, dueAt: r.expiresAt - windowMs };
    case "dead":
      return { status: "reauth", message: r.message, deadRefreshFingerprint: r.deadRefreshFingerprint };
    default:
      return { status: r.kind, message: r.message };
  }
}

async function viaCli(config: Config, before: Extract<Login, { kind: "live" }>, deps: CheckDeps): Promise<CheckResult> {
  const trigger = config.trigger;
  if (trigger.mode !== "host" && trigger.mode !== "container") return { status: "misconfigured", message: `trigger.mode ${trigger.mode}` };
  let last = "";
  for (let run = 1; run <= config.refresh.confirmTries; run++) {
    if (run > 1) await deps.sleep(deps.confirmDelayMs ?? 1500);
    const outcome = await runCliTrigger(trigger, config.credentials, deps.run);
    if (!outcome.ok) return { status: "misconfigured", message: outcome.message };
    const after = await readLogin(config.credentials);
    const verdict = judgeTrigger(before, after);
    if (verdict === "refreshed" && after.kind === "live") {
      return { status: "refreshed", expiresAt: after.expiresAt, fingerprint: after.accessFingerprint, detail: `${outcome.describe} (run ${run})` };
    }
    if (verdict === "dead") return { status: "reauth", message: "Claude Code's refresh token was rejected (invalid_grant): the CLI blanked its credentials", deadRefreshFingerprint: BLANK };
    last = describeRun(outcome.result);
  }
  return {
    status: "transient",
    message: `${config.refresh.confirmTries} run(s) of the CLI did not move the expiry (${formatTime(before.expiresAt)}); last: ${last}. No network, or Anthropic's token endpoint failing?`,
  };
}

async function record(stateDir: string, result: Exclude<CheckResult, { status: "ok" | "misconfigured" }>, now: number) {
  const at = new Date(now).toISOString();
  await refreshSection.update(stateDir, (mine) => {
    const previous = mine.refresh ?? {};
    if (result.status === "refreshed") mine.refresh = { lastTriggerAt: at, lastResult: "refreshed", lastRefreshAt: at, failures: 0 };
    else mine.refresh = { ...previous, lastTriggerAt: at, lastResult: result.status, failures: (previous.failures ?? 0) + 1, lastError: result.message };
  });
}
