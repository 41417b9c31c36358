import { z } from "../config/zod.ts";
import { checkShape, formatTime, type ClaudeCredentials } from "../credentials/parse.ts";
import { fingerprint } from "../log/redact.ts";

/**
 * The one message a source sends a receiver on ssh's stdin: one JSON line. It carries the access token, its expiry,
 * the subscription type and the token's fingerprint, and never the refresh token: a second machine that could
 * refresh would spend the single-use refresh token and log the first one out.
 */
export const MESSAGE_VERSION = 1;
/** A real message is about 250 bytes; anything near this is not one of ours. */
export const MAX_MESSAGE_BYTES = 4096;

const tokenMessage = z.strictObject({
  v: z.literal(MESSAGE_VERSION),
  kind: z.literal("token"),
  accessToken: z.string().check(z.maxLength(1100)),
  expiresAt: z.number(),
  subscriptionType: z.optional(z.nullable(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,40}$/)))),
  fingerprint: z.string().check(z.regex(/^[0-9a-f]{12}$/)),
});
const probeMessage = z.strictObject({ v: z.literal(MESSAGE_VERSION), kind: z.literal("probe") });

export type PushMessage = { kind: "token"; credentials: ClaudeCredentials; fingerprint: string } | { kind: "probe" };
export type MessageResult = { ok: true; message: PushMessage } | { ok: false; reason: "malformed" | "expired" | "refresh-token"; message: string };

/** Pure: the line sent for these credentials. The refresh token is dropped here, by construction. */
export function encodeTokenMessage(credentials: Pick<ClaudeCredentials, "accessToken" | "expiresAt" | "subscriptionType">): string {
  return `${JSON.stringify({
    v: MESSAGE_VERSION,
    kind: "token",
    accessToken: credentials.accessToken,
    expiresAt: credentials.expiresAt,
    subscriptionType: credentials.subscriptionType ?? null,
    fingerprint: fingerprint(credentials.accessToken),
  })}\n`;
}

export const PROBE_MESSAGE = `${JSON.stringify({ v: MESSAGE_VERSION, kind: "probe" })}\n`;

/**
 * Pure: the bytes read from stdin → a message, or why it is refused. As strict as the credentials file (token shape,
 * expiry range, no control characters, nothing but the known keys) and stricter: one line, a matching fingerprint,
 * and no refresh token at all.
 */
export function parseMessage(text: string, now: number): MessageResult {
  const refuse = (reason: "malformed" | "expired" | "refresh-token", message: string): MessageResult => ({ ok: false, reason, message });
  if (text.length === 0) return refuse("malformed", "empty message");
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(body)) return refuse("malformed", "the message must be one line of JSON without control characters");
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return refuse("malformed", "the message is not JSON");
  }
  if (typeof json === "object" && json !== null && !Array.isArray(json) && /sk-ant-ort/.test(JSON.stringify(json))) {
    return refuse("refresh-token", "the message carries a refresh token: refused (only the access token may ever travel)");
  }
  if (typeof json === "object" && json !== null && "refreshToken" in json) {
    return refuse("refresh-token", "the message carries a refreshToken field: refused (only the access token may ever travel)");
  }
  const probe = probeMessage.safeParse(json);
  if (probe.success) return { ok: true, message: { kind: "probe" } };
  const parsed = tokenMessage.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => (i.path.length ? i.path.join(".") : i.code === "unrecognized_keys" ? `unknown key(s)` : "(top level)")).join(", ");
    return refuse("malformed", `the message does not have the expected fields (${fields})`);
  }
  const m = parsed.data;
  const shape = checkShape(m.accessToken, undefined, m.expiresAt);
  if (shape) return refuse("malformed", shape.replace("claudeAiOauth.", ""));
  if (fingerprint(m.accessToken) !== m.fingerprint) return refuse("malformed", "the fingerprint does not match the token (damaged in transit?)");
  if (m.expiresAt <= now) return refuse("expired", `the token ${m.fingerprint} expired at ${formatTime(m.expiresAt)}`);
  return {
    ok: true,
    message: { kind: "token", fingerprint: m.fingerprint, credentials: { accessToken: m.accessToken, expiresAt: m.expiresAt, subscriptionType: m.subscriptionType ?? null } },
  };
}
