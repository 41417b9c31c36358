import { createHash } from "node:crypto";

const TOKEN_PATTERN = /sk-ant-[A-Za-z0-9_-]+/g;
const known = new Set<string>();

/** Short, stable, non-reversible name for a secret: safe to log and store. */
export function fingerprint(secret: string): string {
  if (!secret) return "(none)";
  return createHash("sha256").update(secret).digest("hex").slice(0, 12);
}

/** Remember a secret that may not look like `sk-ant-…` so redact() hides it too. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 8) known.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join(`[redacted ${fingerprint(secret)}]`);
  }
  return out.replace(TOKEN_PATTERN, (match) => `sk-ant-…[${fingerprint(match)}]`);
}
