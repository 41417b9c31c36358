import type { TargetConfig } from "../config/schema.ts";
import { planAuthProfiles } from "./auth-profiles.ts";
import { planEnvFile } from "./env-file.ts";
import { fileTarget } from "./file-target.ts";
import { planOauthJson } from "./oauth-json.ts";
import { openclawCliTarget } from "./openclaw-cli.ts";
import { sqliteEraReason } from "./sqlite-era.ts";
import type { Target } from "./types.ts";

export function createTarget(config: TargetConfig): Target {
  switch (config.kind) {
    case "openclaw-auth-profiles":
      return fileTarget(config, (text, credentials) => planAuthProfiles(text, credentials, config), () => sqliteEraReason(config.kind, config.path));
    case "openclaw-oauth-json":
      return fileTarget(config, (text, credentials) => planOauthJson(text, credentials, config), () => sqliteEraReason(config.kind, config.path));
    case "env-file":
      return fileTarget(config, (text, credentials) => planEnvFile(text, credentials, config));
    case "openclaw-cli":
      return openclawCliTarget(config);
  }
}
