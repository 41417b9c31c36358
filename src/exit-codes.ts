/** Exit codes scripts can rely on (documented in docs/ARCHITECTURE.md). */
export const EXIT = {
  ok: 0,
  /** At least one target could not be written; the others were. */
  targetFailed: 1,
  /** The config file is missing or invalid. */
  misconfigured: 2,
  /** The credentials are unusable (blank, expired, malformed): nothing was written. */
  credentialsRefused: 3,
  /** The targets were written but the gateway reload failed (it stays owed in the state file). */
  reloadFailed: 4,
} as const;
