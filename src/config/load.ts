import { dirname, isAbsolute, resolve, join } from "node:path";
import { homedir } from "node:os";
import type { z } from "./zod.ts";
import { configSchema, type Config } from "./schema.ts";
import { defaultConfigPath } from "./defaults.ts";
import { describeFsError } from "../fs/errors.ts";
import { MAX_BYTES } from "../fs/open-file.ts";
import { readOwnFile } from "../fs/place.ts";
import { closest } from "../argv/suggest.ts";
import { lineColumn, scanJson, type JsonPlaces } from "./json-position.ts";
import { keysAt, mayBeLeftOut } from "./schema-walk.ts";
import { migrateConfig } from "./migrate.ts";

/** `notes`: what src/config/migrate.ts changed in an older form (for the caller to print). */
export type ConfigResult = { ok: true; config: Config; path: string; notes: string[] } | { ok: false; path: string; errors: string[] };

export function configPath(flag?: string): string {
  return flag || process.env.OAUTH_SYNC_CONFIG || defaultConfigPath();
}

/** Reads the config only where nobody but root (or the user running us) could have written it or its directories. */
export async function loadConfig(path: string): Promise<ConfigResult> {
  const read = readOwnFile(path, MAX_BYTES.config);
  if (!read.ok) {
    const hint = read.code === "ENOENT" ? " (create it, run `oauth-sync install`, or pass --config FILE)" : "";
    return { ok: false, path, errors: [describeFsError("read config", path, read) + hint] };
  }
  return parseConfig(read.text, path);
}

/**
 * Pure: text of a config file → validated config with the schema's defaults and absolute paths, or every error
 * explained as `FILE:LINE:COLUMN: where: what (and the fix)`. A UTF-8 byte order mark (editors on Windows add one)
 * is accepted.
 */
export function parseConfig(text: string, path: string): ConfigResult {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const scan = scanJson(body);
  if (!scan.ok) return { ok: false, path, errors: [`${path}:${scan.problem.line}:${scan.problem.column}: not valid JSON: ${scan.problem.message}`] };
  const raw: unknown = JSON.parse(body);
  const at = (where: string, key = false) => {
    const { line, column } = lineColumn(body, placeOf(scan.places, where, key));
    return `${path}:${line}:${column}`;
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, path, errors: [`${at("")}: the file must hold a JSON object ({ … })`] };
  // Forms an earlier release read (null for "the default", renamed keys): today's form, with a note for each.
  const { raw: current, notes } = migrateConfig(raw as Record<string, unknown>, { hasDefault: (where) => mayBeLeftOut(configSchema, raw, where) });
  const control = controlCharacters(current);
  if (control.length > 0) return { ok: false, path, errors: control.map((where) => `${at(where)}: ${where}: contains a control character (a newline, a tab…): refused`) };
  const parsed = configSchema.safeParse(current);
  if (!parsed.success) {
    const explained = explainIssues(parsed.error.issues, current).map((e) => ({ ...e, offset: placeOf(scan.places, e.where, e.key) }));
    return { ok: false, path, errors: explained.sort((a, b) => a.offset - b.offset).map((e) => `${at(e.where, e.key)}: ${e.line}`) };
  }
  return { ok: true, path, config: absolutePaths(parsed.data, dirname(resolve(path))), notes };
}

/** Where a path stands in the text: its value (or its key), else the nearest enclosing value. */
function placeOf(places: JsonPlaces, where: string, key = false): number {
  for (let path = where; ; ) {
    const offset = key ? (places.keys.get(path) ?? places.values.get(path)) : (places.values.get(path) ?? places.keys.get(path));
    if (offset !== undefined) return offset;
    const parent = path.replace(/(\.[^.[]*|\[\d+\])$/, "");
    // A key holding "." or "[" does not split back cleanly: the top of the file then.
    if (!path || parent === path) return 0;
    path = parent;
  }
}

const quoted = (words: readonly unknown[]) => words.map((w) => JSON.stringify(w)).join(", ");

/** Pure: zod's issues → one line each in the operator's words; an unknown key that is a missing one misspelt is one line. */
export function explainIssues(issues: z.core.$ZodIssue[], input: unknown): { where: string; line: string; key?: boolean }[] {
  const lines: { where: string; line: string; key?: boolean }[] = [];
  const misspelt = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const known = keysAt(configSchema, input, issue.path);
    for (const key of issue.keys) {
      const near = closest(key, known);
      const where = formatPath([...issue.path, key]);
      const missing = near !== undefined && valueAt(input, [...issue.path, near]) === undefined;
      if (missing) misspelt.add(formatPath([...issue.path, near]));
      lines.push({ where, key: true, line: `${where}: unknown key${near ? ` (did you mean ${JSON.stringify(near)}?)` : known.length ? `: the keys here are ${quoted(known)}` : ""}` });
    }
  }
  for (const issue of issues) {
    const where = formatPath(issue.path);
    const label = where || "(top level)";
    if (issue.code === "unrecognized_keys" || misspelt.has(where)) continue;
    const value = valueAt(input, issue.path);
    if (issue.code === "invalid_union" && "discriminator" in issue && typeof issue.discriminator === "string") {
      const options = ((issue as { options?: unknown[] }).options ?? []).filter((o): o is string => typeof o === "string");
      if (value === undefined) {
        lines.push({ where: formatPath(issue.path.slice(0, -1)), line: `${formatPath(issue.path.slice(0, -1)) || "(top level)"}: "${issue.discriminator}" is missing: one of ${quoted(options)}` });
        continue;
      }
      const near = typeof value === "string" ? closest(value, options) : undefined;
      lines.push({ where, line: `${label}: ${JSON.stringify(value)?.slice(0, 60)} is not one of ${quoted(options)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}` });
      continue;
    }
    if (value === null && issue.code === "invalid_type") {
      const fix = mayBeLeftOut(configSchema, input, issue.path) ? "remove the key to use the default" : `give ${article(issue.expected)}`;
      lines.push({ where, line: `${label}: null is not accepted here (${issue.expected} expected): ${fix}` });
      continue;
    }
    if (value === undefined && issue.code === "invalid_type") {
      lines.push({ where, line: `${label}: missing (${issue.expected} expected)` });
      continue;
    }
    const shown = isSecretPath(issue.path) ? "value not shown" : `got ${JSON.stringify(value)?.slice(0, 60)}`;
    lines.push({ where, line: `${label}: ${issue.message} (${shown})` });
  }
  return lines;
}

const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

/** Webhook URLs and environment values may carry secrets: an error names where, never what. */
function isSecretPath(path: PropertyKey[]): boolean {
  return path.some((part) => part === "webhooks" || part === "env" || part === "headers" || part === "url");
}

/** Pure: where in the raw config a string holds a control character (none belongs in a path, URL or argv). */
function controlCharacters(value: unknown, path: PropertyKey[] = []): string[] {
  // eslint-disable-next-line no-control-regex
  if (typeof value === "string") return /[\x00-\x1f\x7f]/.test(value) ? [formatPath(path) || "(top level)"] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => controlCharacters(item, [...path, i]));
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([key, item]) => controlCharacters(item, [...path, key]));
  return [];
}

function formatPath(path: PropertyKey[]): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let node = input as Record<PropertyKey, unknown> | undefined;
  for (const part of path) node = node?.[part] as Record<PropertyKey, unknown> | undefined;
  return node;
}

export function expandPath(path: string, base: string): string {
  if (path === "~" || path.startsWith("~/")) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(base, path);
}

function absolutePaths(config: Config, base: string): Config {
  return {
    ...config,
    credentials: expandPath(config.credentials, base),
    stateDir: expandPath(config.stateDir, base),
    targets: config.targets.map((t) => ("path" in t ? { ...t, path: expandPath(t.path, base) } : t)),
    refresh: config.refresh.flagFile ? { ...config.refresh, flagFile: expandPath(config.refresh.flagFile, base) } : config.refresh,
    trigger:
      config.trigger.mode === "host"
        ? {
            ...config.trigger,
            ...(config.trigger.home ? { home: expandPath(config.trigger.home, base) } : {}),
            ...(config.trigger.configDir ? { configDir: expandPath(config.trigger.configDir, base) } : {}),
          }
        : config.trigger,
  };
}
