/**
 * What follows the sync of the targets, per verb. The pass itself (src/pass/pipeline.ts) is the same for all.
 * - reload "now": reload before the verb ends (also a reload owed from earlier); "schedule": the resident reload
 *   scheduler settles, retries and keeps the debt; "skip": `sync --no-reload`.
 * - push "await": push to every ssh host and wait for their answers; "offer": hand the token to the push workers,
 *   which retry on their own; "skip": a receiving host never pushes on.
 */
export interface PassPolicy {
  reload: "now" | "schedule" | "skip";
  push: "await" | "offer" | "skip";
}

export const POLICY = {
  sync: { reload: "now", push: "await" },
  /** `check`/`refresh` after a refresh: the backstop timer may run while the service is down. */
  check: { reload: "now", push: "await" },
  receive: { reload: "now", push: "skip" },
  watch: { reload: "schedule", push: "offer" },
} as const satisfies Record<string, PassPolicy>;
