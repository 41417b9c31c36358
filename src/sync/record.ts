import type { CredentialsResult } from "../credentials/parse.ts";
import { fingerprint } from "../log/redact.ts";
import type { TargetOutcome } from "../targets/types.ts";
import type { State } from "../state/store.ts";

/** Pure updates of the state record; only real changes alter it, so an idle reconcile writes nothing. */
export function recordSource(state: State, source: CredentialsResult, now: number): void {
  if (source.ok) {
    state.source = { fingerprint: fingerprint(source.credentials.accessToken), expiresAt: source.credentials.expiresAt };
  } else if (state.source?.lastError !== source.message) {
    state.source = { ...state.source, lastError: source.message, lastErrorAt: new Date(now).toISOString() };
  }
}

export function recordOutcome(state: State, outcome: TargetOutcome, fp: string, expiresAt: number, now: number): void {
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
  }
}
