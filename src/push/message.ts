import { z } from "../config/zod.ts";
import { expiryProblem, formatTime, tokenProblem, type ClaudeCredentials } from "../credentials/parse.ts";
import { fingerprint } from "../log/redact.ts";

/**
 * The one message a source sends a receiver on ssh's stdin: one JSON line. It carries the access token, its expiry,
 * the subscription type and the token's fingerprint, and never the refresh token: a second machine that could
 * refresh would spend the single-use refresh token and log the first one out.
 */
export const MESSAGE_VERSION = 1;
/** A real message is about 250 bytes; anything near this is not one of ours. */
export const MAX_MESSAGE_BYTES = 4096;

/**
 * The longest a pushed token may still live: the longest real token lifetime plus a day for the two hosts' clocks.
 * The CLI's login lives 8 hours (`expires_in` 28800, measured with the real CLI: docs/HOW-TOKEN-REFRESH-WORKS.md);
 * `claude setup-token` asks for `expires_in` 31536000, one year, the longest Anthropic issues (a source may follow
 * such a login). An expiry beyond that is not a real token's: accepted, it would out-live every honest push
 * (the newer-token rule) and pin the receiver until someone edited its state by hand.
 */
export const MAX_PUSHED_LIFETIME_MS = 366 * 24 * 3_600_000;

const tokenMessage = z.strictObject({
  v: z.literal(MESSAGE_VERSION),
  kind: z.literal("token"),
  accessToken: z.string().check(z.maxLength(1100)),
  expiresAt: z.number(),
  subscriptionType: z.optional(z.nullable(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,40}$/)))),
  fingerprint: z.string().check(z.regex(/^[0-9a-f]{12}$/)),
  /** `sync --force` on the source: replace what the receiver holds even where it expires later (a reset). */
  force: z.optional(z.literal(true)),
});
const probeMessage = z.strictObject({ v: z.literal(MESSAGE_VERSION), kind: z.literal("probe") });

export type PushMessage = { kind: "token"; credentials: ClaudeCredentials; fingerprint: string; force?: true } | { kind: "probe" };
export type Refusal = "malformed" | "expired" | "too-far" | "refresh-token";
export type MessageResult = { ok: true; message: PushMessage } | { ok: false; reason: Refusal; message: string };

/** Pure: the line sent for these credentials. The refresh token is dropped here, by construction. */
export function encodeTokenMessage(credentials: Pick<ClaudeCredentials, "accessToken" | "expiresAt" | "subscriptionType">, options: { force?: boolean } = {}): string {
  return `${JSON.stringify({
    v: MESSAGE_VERSION,
    kind: "token",
    accessToken: credentials.accessToken,
    expiresAt: credentials.expiresAt,
    subscriptionType: credentials.subscriptionType ?? null,
    fingerprint: fingerprint(credentials.accessToken),
    ...(options.force ? { force: true } : {}),
  })}\n`;
}

/**
 * Pure: the first key that appears twice in one object of this (valid) JSON text, or undefined. JSON.parse keeps
 * the last value of a repeated key, so a check of the parsed value (no refresh token, the fingerprint) could see
 * another value than a reader that keeps the first: such a message is refused outright.
 */
export function duplicateKey(text: string): string | undefined {
  const objects: Array<Set<string> | undefined> = [];
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const keys = objects.at(-1);
      if (keys && keyNext) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        keyNext = false;
      }
      i = end;
    } else if (c === "{") {
      objects.push(new Set());
      keyNext = true;
    } else if (c === "[") {
      objects.push(undefined);
      keyNext = false;
    } else if (c === "}" || c === "]") {
      objects.pop();
      keyNext = false;
    } else if (c === ",") keyNext = objects.at(-1) !== undefined;
  }
  return undefined;
}

export const PROBE_MESSAGE = `${JSON.stringify({ v: MESSAGE_VERSION, kind: "probe" })}\n`;

/**
 * Pure: the bytes read from stdin → a message, or why it is refused. As strict as the credentials file (token shape,
 * expiry range, no control characters, nothing but the known keys) and stricter: one line, a matching fingerprint,
 * and no refresh token at all.
 */
export function parseMessage(text: string, now: number): MessageResult {
  const refuse = (reason: Refusal, message: string): MessageResult => ({ ok: false, reason, message });
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
  const repeated = duplicateKey(body);
  if (repeated !== undefined) return refuse("malformed", `the message has the key ${JSON.stringify(repeated.slice(0, 40))} twice: refused`);
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
  const shape = tokenProblem(m.accessToken, "accessToken") ?? expiryProblem(m.expiresAt);
  if (shape) return refuse("malformed", shape);
  if (fingerprint(m.accessToken) !== m.fingerprint) return refuse("malformed", "the fingerprint does not match the token (damaged in transit?)");
  if (m.expiresAt <= now) return refuse("expired", `the token ${m.fingerprint} expired at ${formatTime(m.expiresAt)}`);
  if (m.expiresAt > now + MAX_PUSHED_LIFETIME_MS) {
    return refuse("too-far", `the token ${m.fingerprint} claims to expire at ${formatTime(m.expiresAt)}, beyond the longest real token lifetime (one year): refused`);
  }
  return {
    ok: true,
    message: {
      kind: "token",
      fingerprint: m.fingerprint,
      credentials: { accessToken: m.accessToken, expiresAt: m.expiresAt, subscriptionType: m.subscriptionType ?? null },
      ...(m.force ? { force: true as const } : {}),
    },
  };
}
