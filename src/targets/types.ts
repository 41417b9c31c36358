import type { ClaudeCredentials } from "../credentials/parse.ts";
import type { LocalTargetConfig, TargetConfig } from "../config/schema.ts";
import { sshTargetId } from "../config/ssh.ts";
import type { ProcessRunner } from "../process/run.ts";

/** What a target holds now, as far as it can tell. */
export interface Held {
  token: string;
  expiresAt?: number;
}

/** Pure result of planning a file target: what it holds and what it should become. */
export type FilePlan = { ok: true; held?: Held; next: string } | { ok: false; error: string };

export type TargetStatus = "written" | "unchanged" | "refused" | "failed";

export interface TargetOutcome {
  id: string;
  status: TargetStatus;
  message?: string;
}

export interface SyncContext {
  now: number;
  state: TargetState | undefined;
  run: ProcessRunner;
  /** `sync --force`: replace a newer token this once. */
  force?: boolean;
  /** The uid that owns the Claude login read (undefined for a pushed token): the one user the refresh token may reach. */
  loginUid?: number;
}

export interface Target {
  id: string;
  config: LocalTargetConfig;
  sync(credentials: ClaudeCredentials, context: SyncContext): Promise<TargetOutcome>;
}

export function targetId(config: TargetConfig): string {
  if (config.name) return config.name;
  if (config.kind === "ssh") return sshTargetId(config);
  if (config.kind === "openclaw-cli") return config.agent ? `openclaw-cli:${config.agent}:${config.profileId}` : `openclaw-cli:${config.profileId}`;
  // The whole argv: two targets that run one program with other arguments (two namespaces) keep separate records.
  if (config.kind === "exec") return `exec:${config.command.join(" ")}`;
  if (config.kind === "json-file") return `json-file:${config.path}#${config.tokenPointer}`;
  return `${config.kind}:${config.path}`;
}

/** The state file's record of one target: what we last wrote (by fingerprint, never the token) and the last error. */
export interface TargetState {
  fingerprint?: string;
  expiresAt?: number;
  syncedAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}
