import type { ClaudeCredentials } from "../../../src/credentials/parse.ts";
import { planAuthProfiles } from "../../../src/targets/auth-profiles.ts";
import { readEnvValue } from "../../../src/targets/env-file.ts";
import { planOauthJson } from "../../../src/targets/oauth-json.ts";
import type { FilePlan } from "../../../src/targets/types.ts";

export type SoakTargetKind = "openclaw-auth-profiles" | "openclaw-oauth-json" | "env-file";
export interface SoakTarget {
  kind: SoakTargetKind;
  path: string;
}

/** What one read of a target shows. `undefined` text: the file was not there. */
export type Reading =
  | { kind: "missing" }
  | { kind: "corrupt"; detail: string }
  | { kind: "blank" }
  | { kind: "token"; token: string; expiresAt?: number };

const PROBE: ClaudeCredentials = { accessToken: "probe", expiresAt: 1 };

/** Pure: the token a target's text holds, read the way the target's own planner reads it (so an unparsable file is one it would refuse). */
export function readTarget(target: SoakTarget, text: string | undefined): Reading {
  if (text === undefined) return { kind: "missing" };
  if (target.kind === "env-file") {
    if (!text.endsWith("\n")) return { kind: "corrupt", detail: "no final line end (cut short)" };
    const token = readEnvValue(text, "ANTHROPIC_OAUTH_TOKEN");
    return token ? { kind: "token", token } : { kind: "blank" };
  }
  const plan: FilePlan =
    target.kind === "openclaw-auth-profiles"
      ? planAuthProfiles(text, PROBE, { path: target.path, profileId: "anthropic:default", credentialType: "token" })
      : planOauthJson(text, PROBE, { path: target.path, provider: "anthropic" });
  if (!plan.ok) return { kind: "corrupt", detail: plan.error };
  if (!plan.held) return { kind: "blank" };
  return { kind: "token", ...plan.held };
}

export type Verdict = "fine" | "corrupt" | "blank" | "missing" | "downgrade" | "unknown";

/** What a target has held so far: the newest rotation (by its order) and expiry seen in it. */
export interface Seen {
  rank: number;
  expiresAt: number;
}

/**
 * Pure: a reading judged against what this target held before. `rank` gives a token's place in the order it was
 * written to the credentials (undefined: a token the soak never wrote). Returns the verdict and the updated history.
 */
export function judge(reading: Reading, seen: Seen, rank: (token: string) => number | undefined): { verdict: Verdict; seen: Seen } {
  if (reading.kind !== "token") return { verdict: reading.kind, seen };
  const place = rank(reading.token);
  if (place === undefined) return { verdict: "unknown", seen };
  const expiresAt = reading.expiresAt ?? -Infinity;
  if (place < seen.rank || expiresAt < seen.expiresAt) return { verdict: "downgrade", seen };
  return { verdict: "fine", seen: { rank: place, expiresAt: Math.max(seen.expiresAt, expiresAt) } };
}
