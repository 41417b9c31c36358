import { statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { MAX_BYTES } from "../fs/open-file.ts";
import { readOwnFile } from "../fs/place.ts";
import { removeFileHere } from "../fs/remove.ts";
import { oneLine } from "../log/one-line.ts";

/**
 * The sections of the state file. Each domain owns the type of its own record and adds it here by declaration
 * merging (`declare module "../state/store.ts"`), so this module imports none of them: targets and source
 * (src/sync/record.ts), gateway (src/gateway/types.ts), refresh and reauth (src/refresh/record.ts), watch
 * (src/watch/record.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface StateSections {}

export type State = { version: 1 } & StateSections;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

export function emptyState(): State {
  return { version: 1 } as State;
}

export function stateFile(stateDir: string): string {
  return join(stateDir, "state.json");
}

/** A missing or damaged state file is not fatal: state is a record, not a source of truth. Sections must be objects. */
export async function loadState(stateDir: string): Promise<State> {
  try {
    const read = readOwnFile(stateFile(stateDir), MAX_BYTES.state);
    if (!read.ok) return emptyState();
    const value: unknown = JSON.parse(read.text);
    if (isRecord(value) && value.version === 1) {
      return Object.fromEntries([["version", 1], ...Object.entries(value).filter(([key, section]) => key !== "version" && isRecord(section))]) as unknown as State;
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

/**
 * Can the state file be written right now (an immutable or read-only state directory, a full disk)? A probe file is
 * written and removed the way the record is. Undefined: it can, or there is no record to write yet.
 */
export async function stateWriteProblem(stateDir: string): Promise<string | undefined> {
  if (!statSync(stateDir, { throwIfNoEntry: false })) return undefined;
  const probe = join(stateDir, ".write-probe");
  try {
    await writeFileAtomic(probe, `${process.pid}\n`);
    removeFileHere(probe);
    return undefined;
  } catch (error) {
    return oneLine(error);
  }
}

/** When the record was last written (ISO), if there is one. */
export function stateWrittenAt(stateDir: string): string | undefined {
  const info = statSync(stateFile(stateDir), { throwIfNoEntry: false });
  return info ? info.mtime.toISOString() : undefined;
}
