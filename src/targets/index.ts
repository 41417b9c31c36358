import type { LocalTargetConfig } from "../config/schema.ts";
import { planAuthProfiles } from "./auth-profiles.ts";
import { planEnvFile } from "./env-file.ts";
import { execTarget } from "./exec.ts";
import { planJsonFile } from "./json-file.ts";
import { fileTarget } from "./file-target.ts";
import { planOauthJson } from "./oauth-json.ts";
import { openclawCliTarget } from "./openclaw-cli.ts";
import { ownedFileTarget } from "./owned.ts";
import { sqliteEraReason } from "./sqlite-era.ts";
import type { Target } from "./types.ts";

/** A target as the service uses it: a file target acts with the rights of whoever owns its directory. */
export function createTarget(config: LocalTargetConfig): Target {
  const local = createLocalTarget(config);
  // Commands choose whom they run as themselves (the owner of what openclaw reads; an exec target's `user`).
  return config.kind === "openclaw-cli" || config.kind === "exec" ? local : ownedFileTarget(local, config.path);
}

/** The target acting with this process's own rights (the child that runs as the owner uses this one). */
export function createLocalTarget(config: LocalTargetConfig): Target {
  switch (config.kind) {
    case "openclaw-auth-profiles":
      return fileTarget(config, (text, credentials) => planAuthProfiles(text, credentials, config), () => sqliteEraReason(config.kind, config.path));
    case "openclaw-oauth-json":
      return fileTarget(config, (text, credentials) => planOauthJson(text, credentials, config), () => sqliteEraReason(config.kind, config.path));
    case "env-file":
      return fileTarget(config, (text, credentials) => planEnvFile(text, credentials, config));
    case "json-file":
      return fileTarget(config, (text, credentials) => planJsonFile(text, credentials, config));
    case "openclaw-cli":
      return openclawCliTarget(config);
    case "exec":
      return execTarget(config);
  }
}
