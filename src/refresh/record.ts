import { z } from "../config/zod.ts";
import { defineSection } from "../state/store.ts";

/** The state file's record of the refresh trigger: how the last one went. */
export interface RefreshState {
  lastTriggerAt?: string;
  lastResult?: string;
  lastRefreshAt?: string;
  /** Triggers in a row that did not move the expiry. */
  failures?: number;
  lastError?: string;
}

/** A dead login (refresh token rejected): set until a fresh login appears. */
export interface ReauthState {
  needed?: boolean;
  since?: string;
  reason?: string;
  /** Fingerprint of the refresh token that was rejected ("(none)" for a blanked file): a different one is a new login. */
  deadRefreshFingerprint?: string;
  lastNotifiedAt?: string;
}

declare module "../state/store.ts" {
  interface StateSections {
    refresh?: RefreshState;
    reauth?: ReauthState;
  }
}

const text = z.optional(z.string());

/** Written by one check (src/refresh/check.ts) alone. */
export const refreshSection = defineSection("refresh", z.looseObject({ lastTriggerAt: text, lastResult: text, lastRefreshAt: text, failures: z.optional(z.number()), lastError: text }));
/** Written by the dead-login bookkeeping (src/refresh/reauth.ts) alone. */
export const reauthSection = defineSection(
  "reauth",
  z.looseObject({ needed: z.optional(z.boolean()), since: text, reason: text, deadRefreshFingerprint: text, lastNotifiedAt: text }),
);
