import { z } from "../config/zod.ts";
import type { CredentialsResult } from "../credentials/parse.ts";
import { fingerprint } from "../log/redact.ts";
import type { TargetOutcome, TargetState } from "../targets/types.ts";
import { defineSection } from "../state/store.ts";

/** The state file's record of the credentials as the last pass read them (fingerprint, never the token). */
export interface SourceState {
  fingerprint?: string;
  expiresAt?: number;
  lastError?: string;
  lastErrorAt?: string;
}

declare module "../state/store.ts" {
  interface StateSections {
    source?: SourceState;
    /** This host's targets by id (other hosts are `hosts`: src/push/record.ts). */
    targets?: Record<string, TargetState>;
  }
}

const text = z.optional(z.string());
const number = z.optional(z.number());

/** Written by the sync pass alone (src/sync/engine.ts). */
export const sourceSection = defineSection("source", z.looseObject({ fingerprint: text, expiresAt: number, lastError: text, lastErrorAt: text }));
export const targetsSection = defineSection(
  "targets",
  z.record(z.string(), z.looseObject({ fingerprint: text, expiresAt: number, syncedAt: text, lastError: text, lastErrorAt: text })),
);

type SyncRecord = { source?: SourceState; targets?: Record<string, TargetState> };

/** Pure updates of the state record; only real changes alter it, so an idle reconcile writes nothing. */
export function recordSource(state: SyncRecord, source: CredentialsResult, now: number): void {
  if (source.ok) {
    state.source = { fingerprint: fingerprint(source.credentials.accessToken), expiresAt: source.credentials.expiresAt };
  } else if (state.source?.lastError !== source.message) {
    state.source = { ...state.source, lastError: source.message, lastErrorAt: new Date(now).toISOString() };
  }
}

export function recordOutcome(state: SyncRecord, outcome: TargetOutcome, fp: string, expiresAt: number, now: number): void {
  const targets = (state.targets ??= {});
  const previous = targets[outcome.id] ?? {};
  const at = new Date(now).toISOString();
  switch (outcome.status) {
    case "written":
      targets[outcome.id] = { fingerprint: fp, expiresAt, syncedAt: at };
      break;
    case "unchanged":
      if (previous.fingerprint !== fp || previous.lastError) {
        targets[outcome.id] = { fingerprint: fp, expiresAt, syncedAt: previous.fingerprint === fp ? previous.syncedAt : at };
      }
      break;
    default:
      if (previous.lastError !== outcome.message) {
        targets[outcome.id] = { ...previous, lastError: outcome.message, lastErrorAt: at };
      }
  }
}
