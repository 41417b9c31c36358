import type { CredentialsResult } from "../credentials/parse.ts";
import { fingerprint } from "../log/redact.ts";
import type { TargetOutcome } from "../targets/types.ts";
import type { State } from "./state.ts";

/** Pure updates of the state record; only real changes alter it, so an idle reconcile writes nothing. */
export function recordSource(state: State, source: CredentialsResult, now: number): void {
  if (source.ok) {
    state.source = { fingerprint: fingerprint(source.credentials.accessToken), expiresAt: source.credentials.expiresAt };
  } else if (state.source.lastError !== source.message) {
    state.source = { ...state.source, lastError: source.message, lastErrorAt: new Date(now).toISOString() };
  }
}

export function recordOutcome(state: State, outcome: TargetOutcome, fp: string, expiresAt: number, now: number): void {
  const previous = state.targets[outcome.id] ?? {};
  const at = new Date(now).toISOString();
  switch (outcome.status) {
    case "written":
      state.targets[outcome.id] = { fingerprint: fp, expiresAt, syncedAt: at };
      break;
    case "unchanged":
      if (previous.fingerprint !== fp || previous.lastError) {
        state.targets[outcome.id] = { fingerprint: fp, expiresAt, syncedAt: previous.fingerprint === fp ? previous.syncedAt : at };
      }
      break;
    default:
      if (previous.lastError !== outcome.message) {
        state.targets[outcome.id] = { ...previous, lastError: outcome.message, lastErrorAt: at };
      }
  }
}
