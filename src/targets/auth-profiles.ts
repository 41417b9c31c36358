import type { ClaudeCredentials } from "../credentials/parse.ts";
import type { z } from "../config/zod.ts";
import type { authProfilesTargetSchema } from "../config/schema.ts";
import { isObject, parseJsonObject, sameJson, stringifyJson } from "./json-store.ts";
import type { FilePlan, Held } from "./types.ts";

type Options = Pick<z.infer<typeof authProfilesTargetSchema>, "profileId" | "credentialType" | "path">;

/** Secret-bearing fields of every credential type; a profile carries exactly the ones its type needs. */
const SECRET_FIELDS = ["token", "access", "refresh", "key", "expires"] as const;
/** Per-profile counters OpenClaw uses to park a failing profile; a new token deserves a clean slate. */
const FAILURE_FIELDS = ["errorCount", "cooldownUntil", "disabledUntil", "disabledReason", "failureCounts"] as const;

export function credentialFields(credentials: ClaudeCredentials, type: Options["credentialType"]): Record<string, unknown> {
  switch (type) {
    case "token":
      return { token: credentials.accessToken, expires: credentials.expiresAt };
    case "oauth":
      return { access: credentials.accessToken, ...(credentials.refreshToken ? { refresh: credentials.refreshToken } : {}), expires: credentials.expiresAt };
    case "api_key":
      return { key: credentials.accessToken };
  }
}

const SECRET_OF_TYPE: Record<string, string> = { token: "token", oauth: "access", api_key: "key" };

/** The token a profile holds, read from the field its own type uses (a profile mangled by the "key vs access" bug may carry stale others). */
function heldToken(profile: Record<string, unknown>): Held | undefined {
  const own = typeof profile.type === "string" ? SECRET_OF_TYPE[profile.type] : undefined;
  const fields = own ? [own] : ["token", "access", "key"];
  const token = fields.map((field) => profile[field]).find((v): v is string => typeof v === "string" && v !== "");
  if (!token) return undefined;
  return { token, expiresAt: typeof profile.expires === "number" ? profile.expires : undefined };
}

/** Pure: agents/<id>/agent/auth-profiles.json with our profile set, everything else kept. */
export function planAuthProfiles(text: string | undefined, credentials: ClaudeCredentials, options: Options): FilePlan {
  const parsed = parseJsonObject(text, options.path);
  if (!parsed.ok) return parsed;
  const store = parsed.value;
  if (store.profiles !== undefined && !isObject(store.profiles)) {
    return { ok: false, error: `${options.path}: "profiles" is not an object: fix it by hand; not overwritten` };
  }
  const profiles = (store.profiles ?? {}) as Record<string, unknown>;
  const current = isObject(profiles[options.profileId]) ? (profiles[options.profileId] as Record<string, unknown>) : {};
  const held = heldToken(current);

  const kept = Object.fromEntries(Object.entries(current).filter(([key]) => !(SECRET_FIELDS as readonly string[]).includes(key)));
  const profile = { ...kept, type: options.credentialType, provider: "anthropic", ...credentialFields(credentials, options.credentialType) };
  const next: Record<string, unknown> = { version: 1, ...store, profiles: { ...profiles, [options.profileId]: profile } };

  if (held?.token !== credentials.accessToken) clearFailures(next, options.profileId);
  if (text !== undefined && sameJson(next, store)) return { ok: true, held, next: text };
  return { ok: true, held, next: stringifyJson(next) };
}

function clearFailures(store: Record<string, unknown>, profileId: string) {
  if (!isObject(store.usageStats) || !isObject(store.usageStats[profileId])) return;
  const stats = { ...(store.usageStats[profileId] as Record<string, unknown>) };
  for (const field of FAILURE_FIELDS) delete stats[field];
  store.usageStats = { ...store.usageStats, [profileId]: stats };
}
