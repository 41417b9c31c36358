import { z } from "../config/zod.ts";
import { VERSION } from "../version.ts";

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

/** `unrecognised-token`: a token in a format this release does not know (a person must hear of it, see notify/). */
export type RefusalReason = "unreadable" | "malformed" | "missing-fields" | "logged-out" | "expired" | "unrecognised-token";

export type CredentialsResult =
  | { ok: true; credentials: ClaudeCredentials }
  | { ok: false; reason: RefusalReason; message: string };

/** What the file holds, whatever the clock says: the one parser of the CLI's file (sync and refresher alike). */
export type ParsedLogin =
  | { kind: "login"; credentials: ClaudeCredentials }
  /** The CLI blanked the file: its refresh token was rejected (invalid_grant). */
  | { kind: "blanked"; message: string }
  | { kind: "malformed" | "missing-fields"; message: string }
  /**
   * A well-formed login whose token this release does not recognise (a new format from Anthropic?): nothing is
   * synced, but the refresher may still look at its expiry. `reason` never quotes the token.
   */
  | { kind: "unrecognised"; message: string; reason: string; credentials: ClaudeCredentials };

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
  const expiry = expiryProblem(oauth.expiresAt);
  if (expiry) return { kind: "malformed", message: `${file}: claudeAiOauth.${expiry}: not synced (run \`claude auth login\` if the CLI itself wrote this)` };
  const credentials = { accessToken: oauth.accessToken, refreshToken: oauth.refreshToken || undefined, expiresAt: oauth.expiresAt, subscriptionType: oauth.subscriptionType };
  const shape = tokenProblem(oauth.accessToken, "accessToken") ?? (oauth.refreshToken ? tokenProblem(oauth.refreshToken, "refreshToken") : undefined);
  if (shape) return { kind: "unrecognised", reason: shape, credentials, message: `${file}: claudeAiOauth.${shape}: not synced. ${UNRECOGNISED_HINT}` };
  return { kind: "login", credentials };
}

/** Pure: the text of the CLI's credentials file → usable credentials, or the reason they must not be synced. */
export function parseCredentials(text: string, file: string, now: number): CredentialsResult {
  const login = parseLogin(text, file);
  if (login.kind === "blanked") return refuse("logged-out", login.message);
  if (login.kind === "unrecognised") return refuse("unrecognised-token", login.message);
  if (login.kind !== "login") return refuse(login.kind, login.message);
  if (login.credentials.expiresAt <= now) {
    return refuse("expired", `${file} holds a token that expired at ${formatTime(login.credentials.expiresAt)}: let Claude Code refresh it (\`claude auth status\`)`);
  }
  return { ok: true, credentials: login.credentials };
}

/**
 * What a Claude OAuth token looks like: `sk-ant-o` (oat: access, ort: refresh), then anything a bearer header may
 * carry (RFC 6750's b64token: letters, digits, `-._~+/`, then `=` padding), of a sane length. Wider than the
 * tokens issued today (`[A-Za-z0-9_-]`) so a new format keeps syncing; every file form we write takes these
 * characters (quoted where one needs it). Quotes, a backslash, whitespace and control characters could break a
 * form (a newline above all, a new line in a .env) and stay refused.
 */
export const TOKEN_SHAPE = /^sk-ant-o[A-Za-z0-9._~+/-]{20,1000}=*$/;
const MAX_TOKEN = 1100;
/** 2020-01-01 to 2100-01-01 in epoch milliseconds: outside it an expiry is garbage (or seconds, not ms). */
export const EXPIRY_RANGE = { min: Date.UTC(2020, 0, 1), max: Date.UTC(2100, 0, 1) } as const;

/** Where releases are published: a later one may know a token format this one does not. */
export const RELEASES_URL = "https://github.com/oauth-sync/oauth-sync/releases";
/** Where a refusal of a token's format points a person: this release may be older than the format. */
export const UNRECOGNISED_HINT = `oauth-sync ${VERSION} does not know this token format: look for a later release (${RELEASES_URL}) that accepts it; until then every target keeps the last good token until it expires`;

/** Pure: why `token` cannot be one of Claude's OAuth tokens, naming the field and never the token, or undefined. */
export function tokenProblem(token: string, field: "accessToken" | "refreshToken"): string | undefined {
  if (TOKEN_SHAPE.test(token) && token.length <= MAX_TOKEN) return undefined;
  const what = `${field} does not look like a Claude OAuth token`;
  if (!token.startsWith("sk-ant-o")) return `${what} (not the prefix of one; ${token.length} characters)`;
  const odd = /[^A-Za-z0-9._~+/=-]/.exec(token.slice(8));
  if (odd) return `${what} (${describeCharacter(odd[0])} at position ${8 + odd.index + 1}: not a character a bearer token holds)`;
  if (/=[^=]/.test(token)) return `${what} (\`=\` before its end: padding comes last)`;
  return `${what} (${token.length} characters: expected 28–${MAX_TOKEN})`;
}

/** A character named by its code point (and class), never shown raw: it may be a control character. */
function describeCharacter(char: string): string {
  const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  if (/\s/.test(char)) return `whitespace ${code}`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f]/.test(char)) return `control character ${code}`;
  if (char === '"' || char === "'" || char === "`") return `a quote ${code}`;
  if (char === "\\") return `a backslash ${code}`;
  return `the character ${code}`;
}

/** Pure: why this cannot be an expiry the CLI wrote (`expiresAt …`), or undefined. */
export function expiryProblem(expiresAt: number): string | undefined {
  if (Number.isSafeInteger(expiresAt) && expiresAt >= EXPIRY_RANGE.min && expiresAt <= EXPIRY_RANGE.max) return undefined;
  return `expiresAt ${String(expiresAt).slice(0, 20)} is not a time between 2020 and 2100 in milliseconds`;
}

/** Pure: why these values cannot be a login the CLI wrote, or undefined. Never quotes a token. */
export function checkShape(accessToken: string, refreshToken: string | undefined, expiresAt: number): string | undefined {
  const token = tokenProblem(accessToken, "accessToken") ?? (refreshToken ? tokenProblem(refreshToken, "refreshToken") : undefined);
  if (token) return `claudeAiOauth.${token}`;
  const expiry = expiryProblem(expiresAt);
  return expiry ? `claudeAiOauth.${expiry}` : undefined;
}

/** ISO time of an epoch-milliseconds value, or the bare number when Date cannot represent it (toISOString would throw). */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}

function refuse(reason: RefusalReason, message: string): CredentialsResult {
  return { ok: false, reason, message };
}
