import type { ClaudeCredentials } from "../credentials/parse.ts";
import { isObject, parseJsonObject, sameJson, stringifyJson } from "./json-store.ts";
import type { FilePlan } from "./types.ts";

interface Options {
  path: string;
  provider: string;
}

/** Pure: legacy credentials/oauth.json, `{ "<provider>": { access, refresh, expires } }`, other providers kept. */
export function planOauthJson(text: string | undefined, credentials: ClaudeCredentials, options: Options): FilePlan {
  const parsed = parseJsonObject(text, options.path);
  if (!parsed.ok) return parsed;
  const store = parsed.value;
  const current = isObject(store[options.provider]) ? (store[options.provider] as Record<string, unknown>) : {};
  const held =
    typeof current.access === "string" && current.access
      ? { token: current.access, expiresAt: typeof current.expires === "number" ? current.expires : undefined }
      : undefined;
  const entry = {
    ...current,
    access: credentials.accessToken,
    refresh: credentials.refreshToken ?? "",
    expires: credentials.expiresAt,
  };
  const next = { ...store, [options.provider]: entry };
  if (text !== undefined && sameJson(next, store)) return { ok: true, held, next: text };
  return { ok: true, held, next: stringifyJson(next) };
}
