import type { ArgsDef } from "citty";
import type { Config } from "../config/schema.ts";
import { configPath, loadConfig } from "../config/load.ts";
import { EXIT, ExitError } from "../exit-codes.ts";
import { ownDirPathProblem } from "../fs/place.ts";
import { logger, setVerbosity } from "../log/logger.ts";
import { registerWebhookSecrets } from "../notify/send.ts";

export const commonArgs = {
  config: { type: "string", alias: "c", valueHint: "FILE", description: "Config file (default $OAUTH_SYNC_CONFIG, a user install's own ~/.config/oauth-sync/config.json, or /etc/oauth-sync/config.json)" },
  verbose: { type: "boolean", alias: "v", description: "Log every step" },
  quiet: { type: "boolean", alias: "q", description: "Log only warnings and errors" },
} as const satisfies ArgsDef;

export function applyVerbosity(args: { verbose?: boolean; quiet?: boolean }) {
  setVerbosity(args);
}

/**
 * Load the config or end the process with every problem listed: the edge where errors become exits. The state
 * directory is checked too, unless the verb never uses it (`{ state: false }`: `config show` only prints).
 */
export async function requireConfig(flag: string | undefined, options: { state?: boolean } = {}): Promise<{ config: Config; path: string }> {
  const result = await loadConfig(configPath(flag));
  if (result.ok) {
    for (const note of result.notes) logger.warn(`${result.path}: ${note}`);
    registerWebhookSecrets(result.config.notify.webhooks); // webhook URLs carry secrets: never printed or logged
    if (options.state === false) return result;
    const stateProblem = ownDirPathProblem(result.config.stateDir);
    if (!stateProblem) return result;
    logger.error(`state directory: ${stateProblem}`);
    throw new ExitError(EXIT.misconfigured, "", [`state directory: ${stateProblem}`]);
  }
  for (const error of result.errors) logger.error(error);
  logger.info(`check it with \`oauth-sync config check --config ${result.path}\`; the schema: \`oauth-sync config schema\``);
  throw new ExitError(EXIT.misconfigured, "", result.errors);
}

/** `watch`, `sync`, `check`, `refresh` follow a credentials file: a receiving host's config has none to follow. */
export function refuseReceiverConfig(config: Config, verb: string): void {
  if (config.source !== "push") return;
  logger.error(`this config receives its token by push ("source": "push"): \`${verb}\` has no credentials file to follow. The source host pushes; here \`oauth-sync receive\` runs as its key's forced command`);
  throw new ExitError(EXIT.misconfigured);
}
