import { z } from "../config/zod.ts";
import { defineSection, type State } from "../state/store.ts";
import { targetsSection } from "../sync/record.ts";
import type { TargetState } from "../targets/types.ts";
import type { PushResult } from "./push-once.ts";

/** What the state file keeps per receiving host: fingerprints only. */
export interface PushState extends TargetState {
  /** Failed pushes in a row. */
  failures?: number;
  /** When the next retry is due, while one is owed. */
  nextRetryAt?: string;
  /** The receiver's last answer, in words. */
  lastAnswer?: string;
}

declare module "../state/store.ts" {
  interface StateSections {
    /** Receiving hosts by target id (earlier releases kept them under `targets`: status still reads those). */
    hosts?: Record<string, PushState>;
  }
}

const text = z.optional(z.string());
const number = z.optional(z.number());

/** Written by the pushes alone (src/push/scheduler.ts). */
export const hostsSection = defineSection(
  "hosts",
  z.record(
    z.string(),
    z.looseObject({ fingerprint: text, expiresAt: number, syncedAt: text, lastError: text, lastErrorAt: text, failures: number, nextRetryAt: text, lastAnswer: text }),
  ),
);

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

/** A host's record: its own section, else where an earlier release kept it (under `targets`). */
export function hostRecord(state: State, id: string): PushState | undefined {
  return hostsSection.read(state)?.[id] ?? targetsSection.read(state)?.[id];
}
