import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_CONFIG_PATH = "/etc/oauth-sync/config.json";

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

export function defaultStateDir(): string {
  if (isRoot()) return "/var/lib/oauth-sync";
  return join(process.env.XDG_STATE_HOME || join(homedir(), ".local/state"), "oauth-sync");
}

/** watch.expiryChecksSeconds when the file names none (kept out of configDefaults: defu would append a list to it). */
export const DEFAULT_EXPIRY_CHECKS_SECONDS = [180, 60];

/** Section defaults; the file's values win (merged with defu). */
export function configDefaults() {
  return {
    credentials: "~/.claude/.credentials.json",
    gateway: { kind: "none" as const },
    stateDir: defaultStateDir(),
    watch: { quietMs: 0, maxDelayMs: 500, reconcileSeconds: 1800, retrySeconds: 30 },
    trigger: { mode: "host" as const },
    refresh: { windowSeconds: 240, retrySeconds: 30, slowRetrySeconds: 300, slowAfterSeconds: 3600, confirmTries: 3 },
    notify: { webhooks: [], timeoutSeconds: 10, retries: 2, reminderHours: 4, failureThreshold: 3 },
  };
}
