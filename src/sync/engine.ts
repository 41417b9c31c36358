import type { Config, LocalTargetConfig } from "../config/schema.ts";
import type { ClaudeCredentials, CredentialsResult } from "../credentials/parse.ts";
import { readCredentials } from "../credentials/read.ts";
import { closeFound, findFile } from "../fs/open-file.ts";
import { fingerprint } from "../log/redact.ts";
import { oneLine } from "../log/one-line.ts";
import type { ProcessRunner } from "../process/run.ts";
import { createTarget } from "../targets/index.ts";
import type { Target, TargetOutcome } from "../targets/types.ts";
import { loadState, updateSections } from "../state/store.ts";
import { recordOutcome, recordSource, sourceSection, targetsSection } from "./record.ts";
import type { TargetState } from "../targets/types.ts";

export interface SyncDeps {
  now: () => number;
  run: ProcessRunner;
  /** Replace a newer token this once (`sync --force`). */
  force?: boolean;
  /** A test seam: called as each stage of a pass begins; a throw from it stands for a bug in that stage. */
  fault?: (stage: PassStage) => void;
  /** A stage failed and the pass went on without it (the daemon counts these). */
  onStageError?: (stage: PassStage, message: string) => void;
}

/** The stages of a pass; each one's failure is contained (src/pass/pipeline.ts guards the ones after the sync). */
export const PASS_STAGES = ["read", "write", "state", "reload", "notify", "push"] as const;
export type PassStage = (typeof PASS_STAGES)[number];

export interface SyncReport {
  source: CredentialsResult;
  outcomes: TargetOutcome[];
  /** At least one target was written. */
  changed: boolean;
  /** A target that the gateway does not re-read on its own was written: the gateway must be reloaded. */
  reloadNeeded: boolean;
  ok: boolean;
  /** The state file could not be updated (the targets were synced all the same). */
  stateError?: string;
}

/** The source of a pass: the credentials, and (read from the CLI's file) the uid that owns that login. */
export type PassSource = CredentialsResult & { loginUid?: number };

/**
 * The read stage of a pass: the CLI's credentials file, with the uid that owns it (the one user its refresh token may
 * reach: an `exec` target that asks); a failure is a refusal, never a throw.
 */
export async function readSource(file: string, deps: Pick<SyncDeps, "now" | "fault" | "onStageError">, now = deps.now()): Promise<PassSource> {
  try {
    deps.fault?.("read");
    const source = await readCredentials(file, now);
    return source.ok ? { ...source, loginUid: loginOwner(file) } : source;
  } catch (error) {
    deps.onStageError?.("read", oneLine(error));
    return { ok: false, reason: "unreadable", message: `cannot read credentials ${file}: ${oneLine(error)}` };
  }
}

/** The uid that owns the CLI's login file. */
function loginOwner(file: string): number | undefined {
  try {
    const found = findFile(file);
    try {
      return found.info?.uid;
    } finally {
      closeFound(found);
    }
  } catch {
    return undefined;
  }
}

/** Targets on this host. `ssh` targets are other hosts: src/push/ pushes to them outside the pass. */
export function localTargets(config: Config): LocalTargetConfig[] {
  return config.targets.filter((t): t is LocalTargetConfig => t.kind !== "ssh");
}

/** A pass from credentials already read (the CLI's file, or a token pushed to `oauth-sync receive`). */
export async function syncFrom(config: Config, source: PassSource, deps: SyncDeps, now = deps.now()): Promise<SyncReport> {
  const targets = localTargets(config).map(createTarget);
  const outcomes = source.ok ? await syncTargets(targets, source.credentials, targetsSection.read(await loadState(config.stateDir)) ?? {}, deps, now, source.loginUid) : [];
  const stateError = await recordPass(config.stateDir, source, outcomes, deps, now);
  const written = new Set(outcomes.filter((o) => o.status === "written").map((o) => o.id));
  return {
    source,
    outcomes,
    changed: written.size > 0,
    reloadNeeded: targets.some((t) => written.has(t.id) && t.config.reload),
    ok: source.ok && outcomes.every((o) => o.status === "written" || o.status === "unchanged"),
    ...(stateError ? { stateError } : {}),
  };
}

/** The record of the pass; a state file that cannot be written is reported, never a reason to stop syncing. */
async function recordPass(stateDir: string, source: CredentialsResult, outcomes: TargetOutcome[], deps: SyncDeps, now: number): Promise<string | undefined> {
  try {
    deps.fault?.("state");
    await updateSections(stateDir, [sourceSection, targetsSection], (mine) => {
      recordSource(mine, source, now);
      if (!source.ok) return;
      const fp = fingerprint(source.credentials.accessToken);
      for (const outcome of outcomes) recordOutcome(mine, outcome, fp, source.credentials.expiresAt, now);
    });
    return undefined;
  } catch (error) {
    deps.onStageError?.("state", oneLine(error));
    return `cannot record the pass in ${stateDir}: ${oneLine(error)}`;
  }
}

function syncTargets(targets: Target[], credentials: ClaudeCredentials, held: Record<string, TargetState>, deps: SyncDeps, now: number, loginUid: number | undefined) {
  return Promise.all(
    targets.map((target) =>
      (async () => {
        deps.fault?.("write");
        return target.sync(credentials, { now, state: held[target.id], run: deps.run, force: deps.force, loginUid });
      })().catch((error): TargetOutcome => {
        // A target reports its own failures as outcomes: a throw is a bug in planning or writing.
        deps.onStageError?.("write", `${target.id}: ${oneLine(error)}`);
        return { id: target.id, status: "failed", message: oneLine(error) };
      }),
    ),
  );
}
