import { lstatSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_CONFIG_PATH = "/etc/oauth-sync/config.json";

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Where `install --user` (or `install --receiver --login`) puts a user's config. */
export function userConfigFile(home = homedir()): string {
  return join(home, ".config/oauth-sync/config.json");
}

/** This user has an installation of their own (`install --user`): its config is there (or cannot be looked at). */
export function userConfigExists(): boolean {
  try {
    return lstatSync(userConfigFile(), { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  }
}

/**
 * The config a verb reads when neither --config nor $OAUTH_SYNC_CONFIG names one: for a user who is not root and has
 * an installation of their own, theirs; else the system's.
 */
export function defaultConfigPath(): string {
  return !isRoot() && userConfigExists() ? userConfigFile() : DEFAULT_CONFIG_PATH;
}

/** The default stateDir: the one default that depends on who runs oauth-sync. */
export function defaultStateDir(): string {
  if (isRoot()) return "/var/lib/oauth-sync";
  return join(process.env.XDG_STATE_HOME || join(homedir(), ".local/state"), "oauth-sync");
}

