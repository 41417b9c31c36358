import type { TargetState } from "../targets/types.ts";
import type { PushResult } from "./push-once.ts";

/** What the state file keeps per receiving host (under `targets`, beside the local targets): fingerprints only. */
export interface PushState extends TargetState {
  /** Failed pushes in a row. */
  failures?: number;
  /** When the next retry is due, while one is owed. */
  nextRetryAt?: string;
  /** The receiver's last answer, in words. */
  lastAnswer?: string;
}

/** Pure: the host's record after one push of the token `fp` (expiring `expiresAt`). */
export function recordPush(previous: PushState | undefined, result: PushResult, fp: string, expiresAt: number, now: number, retryInMs?: number): PushState {
  const at = new Date(now).toISOString();
  const base = previous ?? {};
  if (result.kind === "held") {
    return { fingerprint: result.answer.fingerprint ?? fp, expiresAt: result.answer.expiresAt ?? expiresAt, syncedAt: at, failures: 0, lastAnswer: result.detail };
  }
  const held = result.answer?.fingerprint ? { fingerprint: result.answer.fingerprint, expiresAt: result.answer.expiresAt } : {};
  const next: PushState = {
    ...base,
    ...held,
    lastError: result.error,
    lastErrorAt: at,
    failures: (base.failures ?? 0) + 1,
    ...(result.answer ? { lastAnswer: `${result.answer.status}: ${result.answer.detail}` } : {}),
  };
  if (retryInMs !== undefined) next.nextRetryAt = new Date(now + retryInMs).toISOString();
  else delete next.nextRetryAt;
  return next;
}
