import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { isObject } from "../targets/json-file.ts";

/** Per target: what we last wrote (by fingerprint, never the token) and the last error. */
export interface TargetState {
  fingerprint?: string;
  expiresAt?: number;
  syncedAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}

export interface SourceState {
  fingerprint?: string;
  expiresAt?: number;
  lastError?: string;
  lastErrorAt?: string;
}

export interface State {
  version: 1;
  source: SourceState;
  targets: Record<string, TargetState>;
}

export function emptyState(): State {
  return { version: 1, source: {}, targets: {} };
}

export function stateFile(stateDir: string): string {
  return join(stateDir, "state.json");
}

/** A missing or damaged state file is not fatal: state is a record, not a source of truth. */
export async function loadState(stateDir: string): Promise<State> {
  try {
    const value = JSON.parse(await readFile(stateFile(stateDir), "utf8"));
    if (isObject(value) && value.version === 1 && isObject(value.targets)) {
      return { version: 1, source: isObject(value.source) ? value.source : {}, targets: value.targets } as State;
    }
  } catch {
    // fall through
  }
  return emptyState();
}

export async function saveState(stateDir: string, state: State): Promise<void> {
  await writeFileAtomic(stateFile(stateDir), `${JSON.stringify(state, null, 2)}\n`);
}
