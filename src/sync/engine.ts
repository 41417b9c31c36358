import type { Config } from "../config/schema.ts";
import type { ClaudeCredentials, CredentialsResult } from "../credentials/parse.ts";
import { readCredentials } from "../credentials/read.ts";
import { fingerprint } from "../log/redact.ts";
import type { ProcessRunner } from "../process/run.ts";
import { createTarget } from "../targets/index.ts";
import type { TargetOutcome } from "../targets/types.ts";
import { loadState, saveState, type State } from "./state.ts";
import { recordOutcome, recordSource } from "./record.ts";

export interface SyncDeps {
  now: () => number;
  run: ProcessRunner;
}

export interface SyncReport {
  source: CredentialsResult;
  outcomes: TargetOutcome[];
  /** At least one target was written: what a gateway reload waits for. */
  changed: boolean;
  ok: boolean;
}

/** One pass: read the CLI's credentials, bring every target in line, record what happened. */
export async function syncOnce(config: Config, deps: SyncDeps): Promise<SyncReport> {
  const now = deps.now();
  const state = await loadState(config.stateDir);
  const source = await readCredentials(config.credentials, now);
  const before = JSON.stringify(state);
  recordSource(state, source, now);
  const outcomes = source.ok ? await syncTargets(config, source.credentials, state, deps, now) : [];
  if (JSON.stringify(state) !== before) await saveState(config.stateDir, state);
  const changed = outcomes.some((o) => o.status === "written");
  const ok = source.ok && outcomes.every((o) => o.status === "written" || o.status === "unchanged");
  return { source, outcomes, changed, ok };
}

async function syncTargets(config: Config, credentials: ClaudeCredentials, state: State, deps: SyncDeps, now: number) {
  const fp = fingerprint(credentials.accessToken);
  const targets = config.targets.map(createTarget);
  const outcomes = await Promise.all(
    targets.map((target) =>
      target.sync(credentials, { now, state: state.targets[target.id], run: deps.run }).catch(
        (error): TargetOutcome => ({ id: target.id, status: "failed", message: String(error?.message ?? error) }),
      ),
    ),
  );
  for (const outcome of outcomes) recordOutcome(state, outcome, fp, credentials.expiresAt, now);
  return outcomes;
}
