import { dirname, isAbsolute, resolve, join } from "node:path";
import { homedir } from "node:os";
import type { z } from "./zod.ts";
import { configSchema, type Config } from "./schema.ts";
import { DEFAULT_CONFIG_PATH } from "./defaults.ts";
import { describeFsError } from "../fs/errors.ts";
import { MAX_BYTES } from "../fs/open-file.ts";
import { readOwnFile } from "../fs/place.ts";
import { migrateConfig } from "./migrate.ts";

/** `notes`: what src/config/migrate.ts changed in an older form (for the caller to print). */
export type ConfigResult = { ok: true; config: Config; path: string; notes: string[] } | { ok: false; path: string; errors: string[] };

export function configPath(flag?: string): string {
  return flag || process.env.OAUTH_SYNC_CONFIG || DEFAULT_CONFIG_PATH;
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

/** Pure: text of a config file → validated config with the schema's defaults and absolute paths, or every error explained. */
export function parseConfig(text: string, path: string): ConfigResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, path, errors: [`${path} is not valid JSON: ${(error as Error).message}`] };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, path, errors: [`${path} must hold a JSON object`] };
  }
  const { raw: current, notes } = migrateConfig(raw as Record<string, unknown>);
  raw = current;
  const control = controlCharacters(raw);
  if (control.length > 0) return { ok: false, path, errors: control.map((where) => `${where}: contains a control character (a newline, a tab…): refused`) };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, path, errors: explainIssues(parsed.error.issues, raw) };
  return { ok: true, path, config: absolutePaths(parsed.data, dirname(resolve(path))), notes };
}

function explainIssues(issues: z.core.$ZodIssue[], input: unknown): string[] {
  return issues.map((issue) => {
    const where = issue.path.length ? formatPath(issue.path) : "(top level)";
    if (issue.code === "invalid_union" && issue.path.at(-1) === "kind") return `${where}: ${issue.message}`;
    if (issue.code === "unrecognized_keys") return `${where}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    const value = valueAt(input, issue.path);
    const shown = value === undefined ? "missing" : isSecretPath(issue.path) ? "value not shown" : `got ${JSON.stringify(value)?.slice(0, 60)}`;
    return `${where}: ${issue.message} (${shown})`;
  });
}

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
