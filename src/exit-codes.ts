/** Exit codes scripts can rely on (documented in docs/ARCHITECTURE.md). */
export const EXIT = {
  ok: 0,
  /** At least one target could not be written; the others were. */
  targetFailed: 1,
  /** Something a person must look at: `status` found a problem, `notify --test` could not deliver. */
  failed: 1,
  /** The config file is missing or invalid. */
  misconfigured: 2,
  /** The command line is wrong (an unknown command or flag, a missing or invalid value): nothing was done. */
  usage: 2,
  /** The credentials are unusable (blank, expired, malformed): nothing was written. */
  credentialsRefused: 3,
  /** The targets were written but the gateway reload failed (it stays owed in the state file). */
  reloadFailed: 4,
  /** `check`/`refresh`: the token was inside the refresh window and is now fresh (systemd: SuccessExitStatus=5). */
  refreshed: 5,
  /** `check`/`refresh`: a refresh was due but the expiry did not move (no network, 429/5xx): try again later. */
  refreshTransient: 6,
  /** `check`/`refresh`: the login is dead (refresh token rejected): run `claude auth login`. */
  reauthNeeded: 7,
  /** `install`/`uninstall` could not finish (a unit did not verify, systemctl failed, a receiver could not be set up). */
  installFailed: 8,
  /** `install` before anything was detected or written: not root (and no `--user`). */
  needsRoot: 10,
  /** `install`: systemd is not PID 1 (a container, another init), or `--user` without a reachable user manager. */
  noSystemd: 11,
  /** `install`: the layout needs Docker and the engine does not answer (or the docker CLI is missing). */
  dockerUnreachable: 12,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Ends a verb with an exit code; thrown wherever the decision is made and turned into `process.exit` at one edge
 * (src/commands/_edge.ts). The message, if any, is logged there as one line; most callers have logged already.
 */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message = "",
    /** Lines already logged that explain it: what `--json` reports when the verb printed nothing else. */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}
