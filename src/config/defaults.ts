import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_CONFIG_PATH = "/etc/oauth-sync/config.json";

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** The default stateDir: the one default that depends on who runs oauth-sync. */
export function defaultStateDir(): string {
  if (isRoot()) return "/var/lib/oauth-sync";
  return join(process.env.XDG_STATE_HOME || join(homedir(), ".local/state"), "oauth-sync");
}

