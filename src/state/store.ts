import { statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { fileIdentity } from "../fs/identity.ts";
import { takePidLock } from "../fs/pid-lock.ts";
import { MAX_BYTES } from "../fs/open-file.ts";
import { readOwnFile } from "../fs/place.ts";
import { removeFileHere } from "../fs/remove.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";

/**
 * The sections of the state file: a record for a restarted service and for `status`, never how the parts talk. Each
 * section has one writer, the domain that defines it with `defineSection` (its type by declaration merging,
 * `declare module "../state/store.ts"`, and its schema), so this module imports none of them: `source` and `targets`
 * (src/sync/record.ts), `hosts` (src/push/record.ts), `gateway` (src/gateway/types.ts), `refresh` and `reauth`
 * (src/refresh/record.ts), `watch` (src/watch/record.ts).
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

/**
 * The record as this process last read or wrote it, by directory, with the file's identity then: a pass reads the
 * record twice (the targets' last tokens, then its own update), and the walk and checks of a full read cost more than
 * the pass's own work. Any change to the file (another process's write is a rename: a new inode) reads it afresh.
 */
const known = new Map<string, { identity: string; text: string }>();

function readText(stateDir: string): string | undefined {
  const path = stateFile(stateDir);
  const identity = fileIdentity(path);
  const hit = known.get(stateDir);
  if (identity !== undefined && hit?.identity === identity) return hit.text;
  const read = readOwnFile(path, MAX_BYTES.state);
  if (!read.ok) {
    known.delete(stateDir);
    return undefined;
  }
  if (identity !== undefined) known.set(stateDir, { identity, text: read.text });
  return read.text;
}

/** A missing or damaged state file is not fatal: state is a record, not a source of truth. Sections must be objects. */
export async function loadState(stateDir: string): Promise<State> {
  return parseState(readText(stateDir));
}

function parseState(text: string | undefined): State {
  try {
    if (text === undefined) return emptyState();
    const value: unknown = JSON.parse(text);
    if (isRecord(value) && value.version === 1) {
      return Object.fromEntries([["version", 1], ...Object.entries(value).filter(([key, section]) => key !== "version" && isRecord(section))]) as unknown as State;
    }
  } catch {
    // fall through
  }
  return emptyState();
}

export async function saveState(stateDir: string, state: State): Promise<void> {
  const text = `${JSON.stringify(state, null, 2)}\n`;
  known.delete(stateDir);
  await writeFileAtomic(stateFile(stateDir), text);
  const identity = fileIdentity(stateFile(stateDir));
  if (identity !== undefined) known.set(stateDir, { identity, text });
}

type SectionKey = keyof StateSections & string;

/** What a section's schema must do (a zod schema does): a value of the right shape, or a refusal. */
export interface SectionSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

export interface Section<K extends SectionKey> {
  readonly key: K;
  /** The section as recorded, if it has the shape its schema says; else as if there were none. */
  read(state: State): StateSections[K] | undefined;
  /** Read-modify-write of this section alone (see updateSections). */
  update<T>(stateDir: string, mutate: (mine: { [P in K]?: StateSections[P] }) => T | Promise<T>): Promise<T>;
}

const defined = new Set<string>();

/** A section of the state file and its one writer: defining the same section twice is a bug, found at start. */
export function defineSection<K extends SectionKey>(key: K, schema: SectionSchema<NonNullable<StateSections[K]>>): Section<K> {
  if (defined.has(key)) throw new Error(`the state section "${key}" is defined twice: each section has one writer`);
  defined.add(key);
  // The last value found valid, as JSON: the same record again (every pass reads it) is not parsed again (a schema
  // run costs ~0.1 ms in the interpreter; the schemas transform nothing, so a valid value is returned as it is).
  let lastValid: string | undefined;
  const section: Section<K> = {
    key,
    read(state) {
      const value = (state as unknown as Record<string, unknown>)[key];
      if (value === undefined) return undefined;
      const json = JSON.stringify(value);
      if (json === lastValid) return value as StateSections[K];
      const parsed = schema.safeParse(value);
      if (!parsed.success) return undefined;
      lastValid = json;
      return value as StateSections[K];
    },
    update: (stateDir, mutate) => updateSections(stateDir, [section], mutate),
  };
  return section;
}

const locks = new Map<string, Promise<unknown>>();

/**
 * The record is shared by the processes of one host (the service, the backstop's `check`, a verb run by hand): each
 * change is read, made and written under this lock file in the state directory, so none overwrites another's update.
 * It is held for one read and one write (milliseconds): one older than `staleMs` was left by a stuck holder.
 */
export const STATE_LOCK = { name: "state.lock", waitMs: 15_000, staleMs: 10_000 };

/**
 * Read-modify-write of some sections of the state file, one at a time per directory in this process and under the
 * state lock across processes, so writers never overwrite each other's record. `mutate` sees and changes only its own
 * sections (validated; a damaged one reads as absent); the others are kept as they are. Writes only when something
 * changed, and only then takes the lock: `mutate` runs on the record as read; when that changes something and another
 * process wrote the record before the lock was taken, it runs once more on the record as it is now. So `mutate` only
 * changes `mine` and returns a value (its caller acts on that value).
 */
export function updateSections<K extends SectionKey, T>(
  stateDir: string,
  sections: ReadonlyArray<Section<K>>,
  mutate: (mine: { [P in K]?: StateSections[P] }) => T | Promise<T>,
): Promise<T> {
  const previous = locks.get(stateDir) ?? Promise.resolve();
  const next = previous.then(async () => {
    const first = await change(readText(stateDir), sections, mutate);
    if (!first.changed) return first.result;
    const lock = await takePidLock(stateDir, STATE_LOCK.name, STATE_LOCK);
    if (!lock.taken) {
      const holder = lock.reason === "held" && lock.holder ? `pid ${lock.holder.pid}` : "another process";
      throw new Error(`${join(stateDir, STATE_LOCK.name)} is held by ${holder}: not recorded`);
    }
    try {
      const text = readText(stateDir);
      const made = text === first.text ? first : await change(text, sections, mutate);
      if (made.changed) await saveState(stateDir, made.state);
      return made.result;
    } finally {
      lock.release();
    }
  });
  locks.set(stateDir, next.catch(() => {}));
  return next;
}

/** `mutate` applied to the record `text`: the record after it, whether that differs, and what `mutate` returned. */
async function change<K extends SectionKey, T>(
  text: string | undefined,
  sections: ReadonlyArray<Section<K>>,
  mutate: (mine: { [P in K]?: StateSections[P] }) => T | Promise<T>,
): Promise<{ text: string | undefined; state: State; changed: boolean; result: T }> {
  const state = parseState(text) as State & Record<string, unknown>;
  const before = JSON.stringify(state);
  const mine = {} as { [P in K]?: StateSections[P] };
  for (const section of sections) mine[section.key] = section.read(state);
  const result = await mutate(mine);
  for (const section of sections) {
    const value = mine[section.key];
    if (value !== undefined) state[section.key] = value as never;
    else if (section.read(state) !== undefined) delete state[section.key];
  }
  return { text, state, changed: JSON.stringify(state) !== before, result };
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

/**
 * A write of the record that failed (a read-only state directory, a full disk): said, and the caller carries on with
 * what it knows. The record is for a restart and `status`, so it never changes an outcome.
 */
export function stateWriteFailed(error: unknown): void {
  logger.warn(`state: ${oneLine(error)}`);
}

/** When the record was last written (ISO), if there is one. */
export function stateWrittenAt(stateDir: string): string | undefined {
  const info = statSync(stateFile(stateDir), { throwIfNoEntry: false });
  return info ? info.mtime.toISOString() : undefined;
}
