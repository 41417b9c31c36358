import { copyFile, readFile } from "node:fs/promises";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { isObject } from "../targets/json-file.ts";

/** A known misconfiguration in openclaw.json that breaks Anthropic requests, and how to fix it. */
export interface Trap {
  path: string;
  problem: string;
  fix: string;
}

type Json = Record<string, unknown>;

/** Pure: the two traps seen in the field. */
export function findTraps(config: Json): Trap[] {
  const traps: Trap[] = [];
  const providers = isObject(config.models) && isObject(config.models.providers) ? (config.models.providers as Json) : {};
  if (providers.anthropic !== undefined) {
    traps.push({
      path: "models.providers.anthropic",
      problem: "an `anthropic` entry in models.providers replaces OpenClaw's built-in Anthropic provider (and its OAuth handling)",
      fix: "remove models.providers.anthropic",
    });
  }
  for (const [name, provider] of Object.entries(providers)) {
    if (isObject(provider) && typeof provider.baseUrl === "string" && /\/v1\/?$/.test(provider.baseUrl)) {
      traps.push({
        path: `models.providers.${name}.baseUrl`,
        problem: `baseUrl ${provider.baseUrl} ends in /v1: requests go to /v1/v1/messages and fail with 404`,
        fix: `drop the trailing /v1 from models.providers.${name}.baseUrl`,
      });
    }
  }
  return traps;
}

/** Pure: the config with the traps fixed and, if asked, the primary model set; other keys untouched. */
export function fixedModelConfig(config: Json, options: { primaryModel?: string }): Json {
  const next: Json = structuredClone(config);
  const models = isObject(next.models) ? (next.models as Json) : undefined;
  const providers = models && isObject(models.providers) ? (models.providers as Json) : undefined;
  if (providers) {
    delete providers.anthropic;
    for (const provider of Object.values(providers)) {
      if (isObject(provider) && typeof provider.baseUrl === "string") provider.baseUrl = provider.baseUrl.replace(/\/v1\/?$/, "");
    }
  }
  if (options.primaryModel) {
    const agents = (next.agents = isObject(next.agents) ? next.agents : {}) as Json;
    const defaults = (agents.defaults = isObject(agents.defaults) ? agents.defaults : {}) as Json;
    defaults.model = { ...(isObject(defaults.model) ? defaults.model : {}), primary: options.primaryModel };
    // `agents.defaults.models` is an allowlist (with aliases): where one is in use, the primary must be on it.
    // Where none is, creating one would lock out every other model: leave it absent.
    if (isObject(defaults.models) && !(options.primaryModel in defaults.models)) {
      const alias = /claude-(opus|sonnet|haiku)/.exec(options.primaryModel)?.[1];
      defaults.models = { ...defaults.models, [options.primaryModel]: alias ? { alias } : {} };
    }
  }
  return next;
}

export type ModelConfigResult = { changed: false } | { changed: true; backup?: string; note?: string };

/**
 * Apply the fixes to openclaw.json. Plain JSON (what OpenClaw writes) is rewritten in its own two-space style; a
 * JSON5 file with comments cannot keep them, so it is backed up first and the caller says so.
 */
export async function applyModelConfig(path: string, options: { primaryModel?: string }, now = Date.now()): Promise<ModelConfigResult> {
  const text = await readFile(path, "utf8");
  let config: Json;
  let plainJson = true;
  try {
    config = JSON.parse(text);
  } catch {
    plainJson = false;
    config = Bun.JSON5.parse(text) as Json;
  }
  const next = fixedModelConfig(config, options);
  if (JSON.stringify(next) === JSON.stringify(config)) return { changed: false };
  let backup: string | undefined;
  if (!plainJson) {
    backup = `${path}.bak-oauth-sync-${now}`;
    await copyFile(path, backup);
  }
  await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`);
  return { changed: true, backup, note: plainJson ? undefined : `${path} was JSON5: its comments could not be kept; the original is in ${backup}` };
}
