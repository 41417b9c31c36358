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

/** The expiry checkpoints of `watch` (seconds left on the token the targets hold): the safety net for a missed event. */
export const DEFAULT_EXPIRY_CHECKS_SECONDS = [180, 60];
