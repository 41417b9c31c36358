import { statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { fileIdentity } from "../fs/identity.ts";
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
  try {
    const text = readText(stateDir);
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
 * Read-modify-write of some sections of the state file, one at a time per directory, so writers never overwrite each
 * other's record. `mutate` sees and changes only its own sections (validated; a damaged one reads as absent); the
 * others are kept as they are. Writes only when something changed.
 */
export function updateSections<K extends SectionKey, T>(
  stateDir: string,
  sections: ReadonlyArray<Section<K>>,
  mutate: (mine: { [P in K]?: StateSections[P] }) => T | Promise<T>,
): Promise<T> {
  const previous = locks.get(stateDir) ?? Promise.resolve();
  const next = previous.then(async () => {
    const state = (await loadState(stateDir)) as State & Record<string, unknown>;
    const before = JSON.stringify(state);
    const mine = {} as { [P in K]?: StateSections[P] };
    for (const section of sections) mine[section.key] = section.read(state);
    const result = await mutate(mine);
    for (const section of sections) {
      const value = mine[section.key];
      if (value !== undefined) state[section.key] = value as never;
      else if (section.read(state) !== undefined) delete state[section.key];
    }
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
