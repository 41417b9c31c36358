import type { FileTargetConfig, LocalTargetConfig } from "../config/schema.ts";
import { planAuthProfiles } from "./auth-profiles.ts";
import { planEnvFile } from "./env-file.ts";
import { execTarget } from "./exec.ts";
import { fileTarget, type Guard, type Planner } from "./file-target.ts";
import { planJsonFile } from "./json-file.ts";
import { planOauthJson } from "./oauth-json.ts";
import { openclawCliTarget } from "./openclaw-cli.ts";
import { ownedFileTarget } from "./owned.ts";
import { sqliteEraReason } from "./sqlite-era.ts";
import type { Target } from "./types.ts";

/** A target as the service uses it: a file target acts with the rights of whoever owns its directory. */
export function createTarget(config: LocalTargetConfig): Target {
  // Commands choose whom they run as themselves (the owner of what openclaw reads; an exec target's `user`).
  if (config.kind === "openclaw-cli" || config.kind === "exec") return createLocalTarget(config);
  const { plan, guard } = filePlanner(config);
  return ownedFileTarget(fileTarget(config, plan, guard), config, plan, guard);
}

/** The target acting with this process's own rights (the worker that acts as the owner uses this one). */
export function createLocalTarget(config: LocalTargetConfig): Target {
  if (config.kind === "openclaw-cli") return openclawCliTarget(config);
  if (config.kind === "exec") return execTarget(config);
  const { plan, guard } = filePlanner(config);
  return fileTarget(config, plan, guard);
}

/** A file target's pure planner, and what must hold before it may write at all. */
export function filePlanner(config: FileTargetConfig): { plan: Planner; guard?: Guard } {
  switch (config.kind) {
    case "openclaw-auth-profiles":
      return { plan: (text, credentials) => planAuthProfiles(text, credentials, config), guard: () => sqliteEraReason(config.kind, config.path) };
    case "openclaw-oauth-json":
      return { plan: (text, credentials) => planOauthJson(text, credentials, config), guard: () => sqliteEraReason(config.kind, config.path) };
    case "env-file":
      return { plan: (text, credentials) => planEnvFile(text, credentials, config) };
    case "json-file":
      return { plan: (text, credentials) => planJsonFile(text, credentials, config) };
  }
}
