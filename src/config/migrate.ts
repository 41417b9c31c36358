/**
 * Pure: a config in a form an earlier release accepted → today's form, with one line per change saying what changed
 * and why. The loader runs it before the schema, so an old config keeps working; `install` writes the migrated form
 * back (an upgrade leaves a file today's release reads without notes).
 *
 * Forms handled:
 * - `null` for a setting: releases up to 2026-12 merged the file over the defaults with defu, which skips `null`, so
 *   `null` meant "the default". It is removed (the default applies, as it did).
 * - Renamed keys (RENAMED): the old key's value moves to the new key, unless the new key is set too (then the old one
 *   is reported and left for the schema to name).
 */

export interface Rename {
  /** Where the key was, e.g. ["watch", "reconcileInterval"]; `*` matches every target of `targets`. */
  from: string[];
  /** Its name now, in the same object. */
  to: string;
  /** The release that renamed it, for the note. */
  since: string;
}

/** Keys renamed since the first release: none yet (add one here with the release that renames it). */
export const RENAMED: Rename[] = [];

export interface Migrated {
  raw: Record<string, unknown>;
  /** One line per change, naming the key: for the person who wrote the file. */
  notes: string[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

export interface MigrateOptions {
  /** Whether the key at this path has a default today (only then can null keep meaning "the default"). */
  hasDefault?: (path: PropertyKey[]) => boolean;
  renamed?: Rename[];
}

export function migrateConfig(raw: Json, options: MigrateOptions = {}): Migrated {
  const notes: string[] = [];
  let next = dropNulls(raw, [], notes, options.hasDefault ?? (() => true)) as Json;
  for (const rename of options.renamed ?? RENAMED) next = applyRename(next, rename, notes);
  return { raw: next, notes };
}

/**
 * `null` as an object's value meant the default: dropped where there is one. Where there is none (`targets`), and
 * inside an array, null was never valid: kept for the schema to name.
 */
function dropNulls(value: unknown, path: PropertyKey[], notes: string[], hasDefault: (path: PropertyKey[]) => boolean): unknown {
  if (Array.isArray(value)) return value.map((item, i) => dropNulls(item, [...path, i], notes, hasDefault));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) {
    const where = [...path, key];
    if (item === null && hasDefault(where)) {
      notes.push(`${show(where.map(part))}: null removed (earlier releases read null as "the default", which applies now too: delete the line)`);
      continue;
    }
    out[key] = dropNulls(item, where, notes, hasDefault);
  }
  return out;
}

const part = (p: PropertyKey) => (typeof p === "number" ? `[${p}]` : String(p));

function applyRename(raw: Json, rename: Rename, notes: string[]): Json {
  const walk = (node: unknown, rest: string[], path: string[]): unknown => {
    if (rest.length === 1) {
      if (!isObject(node) || !(rest[0]! in node)) return node;
      const old = rest[0]!;
      const where = [...path, old];
      if (rename.to in node) {
        notes.push(`${show(where)}: renamed to "${rename.to}" in ${rename.since}, and "${rename.to}" is set too: remove "${old}"`);
        return node;
      }
      const { [old]: value, ...others } = node;
      notes.push(`${show(where)}: renamed to "${rename.to}" in ${rename.since}: moved`);
      return { ...others, [rename.to]: value };
    }
    const [head, ...tail] = rest as [string, ...string[]];
    if (head === "*" && Array.isArray(node)) return node.map((item, i) => walk(item, tail, [...path, `[${i}]`]));
    if (!isObject(node) || !(head in node)) return node;
    return { ...node, [head]: walk(node[head], tail, [...path, head]) };
  };
  return walk(raw, rename.from, []) as Json;
}

function show(path: string[]): string {
  return path.map((part, i) => (part.startsWith("[") || i === 0 ? part : `.${part}`)).join("");
}
