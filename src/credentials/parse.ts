import { z } from "../config/zod.ts";

/** The part of ~/.claude/.credentials.json that oauth-sync uses. Other keys are kept by the CLI, not by us. */
const claudeAiOauth = z.looseObject({
  accessToken: z.string(),
  refreshToken: z.optional(z.string()),
  expiresAt: z.number(),
  scopes: z.optional(z.array(z.string())),
  subscriptionType: z.nullish(z.string()),
});

const credentialsFile = z.looseObject({ claudeAiOauth });

export interface ClaudeCredentials {
  accessToken: string;
  refreshToken?: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  subscriptionType?: string | null;
}

export type RefusalReason = "unreadable" | "malformed" | "missing-fields" | "logged-out" | "expired";

export type CredentialsResult =
  | { ok: true; credentials: ClaudeCredentials }
  | { ok: false; reason: RefusalReason; message: string };

/** What the file holds, whatever the clock says: the one parser of the CLI's file (sync and refresher alike). */
export type ParsedLogin =
  | { kind: "login"; credentials: ClaudeCredentials }
  /** The CLI blanked the file: its refresh token was rejected (invalid_grant). */
  | { kind: "blanked"; message: string }
  | { kind: "malformed" | "missing-fields"; message: string };

/** Pure: the text of the CLI's credentials file → the login it holds (an expired one included), or why none. */
export function parseLogin(text: string, file: string): ParsedLogin {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "malformed", message: `${file} is not valid JSON (half-written, or edited by hand): not synced` };
  }
  const parsed = credentialsFile.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join(".") || "(top level)").join(", ");
    return { kind: "missing-fields", message: `${file} lacks a usable claudeAiOauth login (${fields}): run \`claude auth login\`` };
  }
  const oauth = parsed.data.claudeAiOauth;
  if (oauth.accessToken === "" || oauth.expiresAt === 0) {
    return { kind: "blanked", message: `${file} holds a blanked login (the CLI's refresh token was rejected): run \`claude auth login\` as the user who owns it` };
  }
  const shape = checkShape(oauth.accessToken, oauth.refreshToken, oauth.expiresAt);
  if (shape) return { kind: "malformed", message: `${file}: ${shape}: not synced (run \`claude auth login\` if the CLI itself wrote this)` };
  const credentials = { accessToken: oauth.accessToken, refreshToken: oauth.refreshToken || undefined, expiresAt: oauth.expiresAt, subscriptionType: oauth.subscriptionType };
  return { kind: "login", credentials };
}

/** Pure: the text of the CLI's credentials file → usable credentials, or the reason they must not be synced. */
export function parseCredentials(text: string, file: string, now: number): CredentialsResult {
  const login = parseLogin(text, file);
  if (login.kind === "blanked") return refuse("logged-out", login.message);
  if (login.kind !== "login") return refuse(login.kind, login.message);
  if (login.credentials.expiresAt <= now) {
    return refuse("expired", `${file} holds a token that expired at ${formatTime(login.credentials.expiresAt)}: let Claude Code refresh it (\`claude auth status\`)`);
  }
  return { ok: true, credentials: login.credentials };
}

/**
 * What a Claude OAuth token looks like: `sk-ant-o` (oat: access, ort: refresh) and URL-safe characters only, of a
 * sane length. Anything else, a newline above all, could smuggle lines into a .env or argv: refused.
 */
export const TOKEN_SHAPE = /^sk-ant-o[a-z]{2}\d{2}-[A-Za-z0-9_-]{20,1000}$/;
/** 2020-01-01 to 2100-01-01 in epoch milliseconds: outside it an expiry is garbage (or seconds, not ms). */
export const EXPIRY_RANGE = { min: Date.UTC(2020, 0, 1), max: Date.UTC(2100, 0, 1) } as const;

/** Pure: why these values cannot be a login the CLI wrote, or undefined. Never quotes a token. */
export function checkShape(accessToken: string, refreshToken: string | undefined, expiresAt: number): string | undefined {
  if (!TOKEN_SHAPE.test(accessToken)) return `claudeAiOauth.accessToken does not look like a Claude OAuth token (its prefix, URL-safe characters only, 33–1013 long; this one has ${accessToken.length} characters)`;
  if (refreshToken && !TOKEN_SHAPE.test(refreshToken)) return "claudeAiOauth.refreshToken does not look like a Claude OAuth token";
  if (!Number.isSafeInteger(expiresAt) || expiresAt < EXPIRY_RANGE.min || expiresAt > EXPIRY_RANGE.max) {
    return `claudeAiOauth.expiresAt ${String(expiresAt).slice(0, 20)} is not a time between 2020 and 2100 in milliseconds`;
  }
  return undefined;
}

/** ISO time of an epoch-milliseconds value, or the bare number when Date cannot represent it (toISOString would throw). */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}

function refuse(reason: RefusalReason, message: string): CredentialsResult {
  return { ok: false, reason, message };
}
