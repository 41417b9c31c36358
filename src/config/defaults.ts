import { lstatSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_CONFIG_PATH = "/etc/oauth-sync/config.json";

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Where `install --user` puts a user's config. */
export function userConfigFile(): string {
  return join(homedir(), ".config/oauth-sync/config.json");
}

/**
 * The config a verb reads when neither --config nor $OAUTH_SYNC_CONFIG names one: for a user who is not root and has
 * an installation of their own (`install --user`), theirs; else the system's.
 */
export function defaultConfigPath(): string {
  if (!isRoot() && lstatSync(userConfigFile(), { throwIfNoEntry: false })) return userConfigFile();
  return DEFAULT_CONFIG_PATH;
}

/** The default stateDir: the one default that depends on who runs oauth-sync. */
export function defaultStateDir(): string {
  if (isRoot()) return "/var/lib/oauth-sync";
  return join(process.env.XDG_STATE_HOME || join(homedir(), ".local/state"), "oauth-sync");
}

