import { createHash } from "node:crypto";

/**
 * Anything token-shaped: `sk-ant-` and the characters a bearer token may hold (RFC 6750's b64token, as the
 * credentials reader accepts), so a token in a new format is hidden too. The bare prefixes (`sk-ant-o`) that
 * messages name are shorter than 8 and stay readable.
 */
const TOKEN_PATTERN = /sk-ant-[A-Za-z0-9._~+/-]{8,}=*/g;
/**
 * The secrets read most recently, newest last. Bounded: a resident service reads two new tokens per rotation, and an
 * unbounded set grew by ~200 bytes and one more `includes` per log line with every rotation. A token read 32 secrets
 * ago has long expired, and anything shaped `sk-ant-…` is redacted by pattern anyway.
 */
const known = new Set<string>();
const KNOWN_MAX = 32;
/** Secrets the config holds (webhook URLs): as many as it names, so kept for the process's life, never evicted. */
const configured = new Set<string>();

/** Short, stable, non-reversible name for a secret: safe to log and store. */
export function fingerprint(secret: string): string {
  if (!secret) return "(none)";
  return createHash("sha256").update(secret).digest("hex").slice(0, 12);
}

/** Remember a secret that may not look like `sk-ant-…` so redact() hides it too (`configured`: one of the config's). */
export function registerSecret(secret: string | undefined, options: { configured?: boolean } = {}): void {
  if (!secret || secret.length < 8) return;
  if (options.configured) {
    configured.add(secret);
    return;
  }
  known.delete(secret);
  known.add(secret);
  if (known.size > KNOWN_MAX) known.delete(known.values().next().value!);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of [...configured, ...known]) {
    if (out.includes(secret)) out = out.split(secret).join(`[redacted ${fingerprint(secret)}]`);
  }
  return out.replace(TOKEN_PATTERN, (match) => `sk-ant-…[${fingerprint(match)}]`);
}
