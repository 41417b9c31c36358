import { formatTime, type ClaudeCredentials } from "../credentials/parse.ts";
import { fingerprint } from "../log/redact.ts";
import type { TargetState } from "./types.ts";
import type { Held } from "./types.ts";

/** How to replace a newer token on purpose, named in every refusal. */
export const REPLACE_NEWER_HINT = 'set "replaceNewer": true on this target, or run `oauth-sync sync --force` once';

/**
 * Pure: does the target already hold a different token that lives longer than the one we have?
 * Then writing ours would replace a newer login with an older one. Returns the refusal message.
 */
export function holdsNewerToken(held: Held | undefined, credentials: ClaudeCredentials, state?: TargetState): string | undefined {
  if (!held || !held.token || held.token === credentials.accessToken) return undefined;
  const heldExpiry = held.expiresAt ?? (state?.fingerprint === fingerprint(held.token) ? state.expiresAt : undefined);
  if (heldExpiry === undefined || heldExpiry <= credentials.expiresAt) return undefined;
  return (
    `holds a newer token (${fingerprint(held.token)}, expires ${formatTime(heldExpiry)}) than the credentials ` +
    `(${fingerprint(credentials.accessToken)}, expires ${formatTime(credentials.expiresAt)}): not overwritten; to replace it ${REPLACE_NEWER_HINT}`
  );
}

/**
 * Pure: for a target that cannot be read back (a command), what the state record says about this token: "same"
 * when the last delivery that worked was this very token, a refusal when it was a different token that expires
 * later (ours would be older), else undefined (deliver it).
 */
export function comparedWithDelivered(state: TargetState | undefined, credentials: ClaudeCredentials): "same" | { refusal: string } | undefined {
  const fp = fingerprint(credentials.accessToken);
  if (state?.fingerprint === fp) return state.lastError ? undefined : "same";
  if (state?.fingerprint && state.expiresAt !== undefined && state.expiresAt > credentials.expiresAt) {
    return {
      refusal: `last delivered token (${state.fingerprint}, expires ${formatTime(state.expiresAt)}) expires after the credentials' one (${fp}, expires ${formatTime(credentials.expiresAt)}): not overwritten; to replace it ${REPLACE_NEWER_HINT}`,
    };
  }
  return undefined;
}
