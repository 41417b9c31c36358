import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { MAX_BYTES } from "../fs/open-file.ts";
import { readOwnFile } from "../fs/place.ts";
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

/** The gateway reload: still owed after a failure (kept across restarts), and how the last one went. */
export interface GatewayState {
  pending?: boolean;
  attempts?: number;
  lastReloadAt?: string;
  lastDetail?: string;
  lastError?: string;
  lastErrorAt?: string;
}

/** The refresh trigger: how the last one went (src/refresh/). */
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

/** The watcher: passes by a safety net that found a rotation no file event announced (src/watch/). */
export interface WatchState {
  missed?: number;
  lastMissedAt?: string;
  lastMissedBy?: string;
}

export interface State {
  version: 1;
  source: SourceState;
  targets: Record<string, TargetState>;
  gateway?: GatewayState;
  refresh?: RefreshState;
  reauth?: ReauthState;
  watch?: WatchState;
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
    const read = readOwnFile(stateFile(stateDir), MAX_BYTES.state);
    if (!read.ok) return emptyState();
    const value = JSON.parse(read.text);
    if (isObject(value) && value.version === 1 && isObject(value.targets)) {
      return {
        version: 1,
        source: isObject(value.source) ? value.source : {},
        targets: value.targets,
        gateway: isObject(value.gateway) ? value.gateway : undefined,
        refresh: isObject(value.refresh) ? value.refresh : undefined,
        reauth: isObject(value.reauth) ? value.reauth : undefined,
        watch: isObject(value.watch) ? value.watch : undefined,
      } as State;
    }
  } catch {
    // fall through
  }
  return emptyState();
}

export async function saveState(stateDir: string, state: State): Promise<void> {
  await writeFileAtomic(stateFile(stateDir), `${JSON.stringify(state, null, 2)}\n`);
}

const locks = new Map<string, Promise<unknown>>();

/**
 * Read-modify-write of the state file, one at a time per directory, so the sync engine and the gateway reloader
 * never overwrite each other's record. Writes only when `mutate` changed something.
 */
export function updateState<T>(stateDir: string, mutate: (state: State) => T | Promise<T>): Promise<T> {
  const previous = locks.get(stateDir) ?? Promise.resolve();
  const next = previous.then(async () => {
    const state = await loadState(stateDir);
    const before = JSON.stringify(state);
    const result = await mutate(state);
    if (JSON.stringify(state) !== before) await saveState(stateDir, state);
    return result;
  });
  locks.set(stateDir, next.catch(() => {}));
  return next;
}
