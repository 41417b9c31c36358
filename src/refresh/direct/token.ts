/** Pure parts of the direct refresh: the request Claude Code 2.1.330 sends, the answer, the file it writes. */
import { backoffMs } from "../../schedule/backoff.ts";

export const TOKEN_URL = "https://platform.claude.com/v1/oauth/token";
export const CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
export const CLI_SCOPES = ["user:profile", "user:inference", "user:sessions:claude_code", "user:mcp_servers", "user:file_upload", "user:plugins"];

export function tokenRequestBody(refreshToken: string): string {
  return JSON.stringify({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: CLIENT_ID, scope: CLI_SCOPES.join(" ") });
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  scopes: string[];
}

export type TokenAnswer =
  | { kind: "ok"; tokens: IssuedTokens; warning?: string }
  /** The refresh token is spent or revoked: only a new login helps. */
  | { kind: "dead"; message: string }
  /** 429, 5xx, network: try again later. retryAfterMs from the Retry-After header when there is one. */
  | { kind: "retry"; message: string; retryAfterMs?: number }
  /** Any other answer: retrying will not help (a changed API, a bad client id). */
  | { kind: "rejected"; message: string };

/** Pure: HTTP status + body (+ Retry-After) → what happened. Error text comes from the server's error code only. */
export function parseTokenAnswer(status: number, body: string, retryAfter: string | null, now: number): TokenAnswer {
  let json: Record<string, unknown> | undefined;
  try {
    const value = JSON.parse(body);
    if (value && typeof value === "object") json = value;
  } catch {
    // not JSON
  }
  if (status === 429 || status >= 500) return { kind: "retry", message: `token endpoint answered ${status}`, retryAfterMs: parseRetryAfter(retryAfter, now) };
  const code = typeof json?.error === "string" ? json.error : undefined;
  if (status === 400 && code === "invalid_grant") return { kind: "dead", message: "the refresh token was rejected (invalid_grant)" };
  if (status !== 200) return { kind: "rejected", message: `token endpoint answered ${status}${code ? ` ${safeCode(code)}` : ""}` };
  const access = json?.access_token;
  const refresh = json?.refresh_token;
  const expiresIn = json?.expires_in;
  if (typeof access !== "string" || !access || typeof expiresIn !== "number" || !(expiresIn > 0)) {
    return { kind: "rejected", message: "token endpoint answered 200 without access_token/expires_in" };
  }
  const scopes = typeof json?.scope === "string" ? json.scope.split(/\s+/).filter(Boolean) : CLI_SCOPES;
  const tokens: IssuedTokens = { accessToken: access, refreshToken: typeof refresh === "string" && refresh ? refresh : "", expiresAt: now + expiresIn * 1000, scopes };
  // The old refresh token is spent either way: keep what was issued, but say that the token cannot run models.
  const warning = scopes.includes("user:inference") ? undefined : `the new token lacks the user:inference scope (got "${scopes.join(" ")}")`;
  return { kind: "ok", tokens, warning };
}

/** Only an OAuth-style error code (`invalid_client`) is quoted; anything else could be a token echoed back. */
function safeCode(code: string): string {
  return /^[a-z_]{1,40}$/.test(code) ? code : "(unrecognised error code)";
}

export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Pure: the credentials file with the new tokens, every other key kept (`mcpOAuth`, `subscriptionType`,
 * `rateLimitTier`…). Compact JSON, as the CLI writes it. A refresh answer without a refresh token keeps the old one.
 */
export function mergeTokens(fileText: string, tokens: IssuedTokens): string {
  const file = JSON.parse(fileText) as Record<string, unknown>;
  const old = (file.claudeAiOauth ?? {}) as Record<string, unknown>;
  file.claudeAiOauth = {
    ...old,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken || old.refreshToken,
    expiresAt: tokens.expiresAt,
    scopes: tokens.scopes,
  };
  return JSON.stringify(file);
}

/** Pure: 1 s doubling, capped at 60 s, ±25 % jitter; a server's Retry-After wins when it is longer. */
export function directBackoffMs(attempt: number, random: () => number, retryAfterMs?: number): number {
  const jittered = backoffMs(attempt, { lastMs: 60_000, random });
  return retryAfterMs !== undefined ? Math.max(jittered, Math.min(retryAfterMs, 300_000)) : jittered;
}
