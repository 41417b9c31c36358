import { MAX_BYTES, readRegularFile } from "../fs/open-file.ts";
import { writeFileAsOwner } from "../privilege/owned-fs.ts";
import { isObject } from "../targets/json-store.ts";
import { removeMember, setValue } from "../json/edit.ts";

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

/** The same changes as fixedModelConfig, made as text edits that keep comments and formatting. */
function editedText(text: string, config: Json, options: { primaryModel?: string }): string {
  let out = text;
  const providers = isObject(config.models) && isObject(config.models.providers) ? (config.models.providers as Json) : {};
  if (providers.anthropic !== undefined) out = removeMember(out, ["models", "providers", "anthropic"]);
  for (const [name, provider] of Object.entries(providers)) {
    if (name !== "anthropic" && isObject(provider) && typeof provider.baseUrl === "string" && /\/v1\/?$/.test(provider.baseUrl)) {
      out = setValue(out, ["models", "providers", name, "baseUrl"], provider.baseUrl.replace(/\/v1\/?$/, ""));
    }
  }
  if (options.primaryModel) {
    out = setValue(out, ["agents", "defaults", "model", "primary"], options.primaryModel);
    const defaults = isObject(config.agents) && isObject(config.agents.defaults) ? (config.agents.defaults as Json) : {};
    if (isObject(defaults.models) && !(options.primaryModel in defaults.models)) {
      const alias = /claude-(opus|sonnet|haiku)/.exec(options.primaryModel)?.[1];
      out = setValue(out, ["agents", "defaults", "models", options.primaryModel], alias ? { alias } : {});
    }
  }
  return out;
}

/**
 * Apply the fixes to openclaw.json (JSON, or JSON5 with comments). The changes are made as text edits, so comments
 * and formatting stay; where that does not give exactly the intended config (a layout the editor cannot follow), the
 * file is backed up and rewritten as plain JSON, and the caller says so.
 */
export async function applyModelConfig(path: string, options: { primaryModel?: string }, now = Date.now()): Promise<ModelConfigResult> {
  const read = readRegularFile(path, MAX_BYTES.target);
  if (!read.ok) throw new Error(read.message);
  const text = read.text;
  const config = Bun.JSON5.parse(text) as Json;
  const next = fixedModelConfig(config, options);
  if (Bun.deepEquals(next, config)) return { changed: false };
  let edited: string | undefined;
  try {
    edited = editedText(text, config, options);
    if (!Bun.deepEquals(Bun.JSON5.parse(edited), next)) edited = undefined;
    // Plain JSON stays plain JSON.
    else if (isPlainJson(text) && !isPlainJson(edited)) edited = undefined;
  } catch {
    edited = undefined;
  }
  if (edited !== undefined) {
    await writeFileAsOwner(path, edited);
    return { changed: true };
  }
  const backup = `${path}.bak-oauth-sync-${now}`;
  // Written as the owner of openclaw.json's directory (a user's home, a container's uid), never as root there.
  await writeFileAsOwner(backup, text, { newFileMode: read.info.mode & 0o777 });
  await writeFileAsOwner(path, `${JSON.stringify(next, null, 2)}\n`);
  return { changed: true, backup, note: `its layout could not be edited in place: rewritten as plain JSON (comments lost); the original is in ${backup}` };
}

function isPlainJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
