import { parseLogin } from "../credentials/parse.ts";
import { readCredentialsText } from "../credentials/read.ts";
import { fingerprint, registerSecret } from "../log/redact.ts";

/**
 * What the refresher needs to know about the CLI's credentials file, including an expired token's expiry (which
 * the sync reader refuses and therefore does not report). Fingerprints only: no token leaves this module.
 */
export type Login =
  | { kind: "live"; expiresAt: number; accessFingerprint: string; refreshFingerprint: string; hasRefreshToken: boolean }
  /** The CLI blanked the file: its refresh token was rejected (invalid_grant). */
  | { kind: "blanked" }
  /** The file parses but holds no `claudeAiOauth` login. */
  | { kind: "no-login"; message: string }
  /** Not JSON: half-written or edited by hand. */
  | { kind: "malformed"; message: string }
  | { kind: "unreadable"; message: string; code?: string };

/** Pure: the file's text → the login it holds. "live" includes an expired token (compare expiresAt with the clock). */
export function inspectLogin(text: string, file: string): Login {
  const parsed = parseLogin(text, file);
  switch (parsed.kind) {
    case "blanked":
      return { kind: "blanked" };
    case "missing-fields":
      return { kind: "no-login", message: parsed.message };
    case "malformed":
    case "unrecognised":
      return { kind: "malformed", message: parsed.message };
    case "login": {
      const { accessToken, refreshToken = "", expiresAt } = parsed.credentials;
      return { kind: "live", expiresAt, accessFingerprint: fingerprint(accessToken), refreshFingerprint: fingerprint(refreshToken), hasRefreshToken: refreshToken !== "" };
    }
  }
}

export async function readLogin(file: string): Promise<Login> {
  const read = readCredentialsText(file);
  if (!read.ok) return { kind: "unreadable", message: read.message, code: read.code };
  registerTokens(read.text);
  return inspectLogin(read.text, file);
}

/** Every token value read is known to the redactor before anything could log it. */
function registerTokens(text: string) {
  try {
    const oauth = JSON.parse(text)?.claudeAiOauth;
    registerSecret(oauth?.accessToken);
    registerSecret(oauth?.refreshToken);
  } catch {
    // not JSON: nothing to register
  }
}
