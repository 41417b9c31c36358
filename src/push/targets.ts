import type { Config } from "../config/schema.ts";
import type { SshTargetConfig } from "../config/ssh.ts";
import { localTargets } from "../sync/engine.ts";

/** The receiving hosts of a config: its `ssh` targets. */
export function sshTargets(config: Config): SshTargetConfig[] {
  return config.targets.filter((t): t is SshTargetConfig => t.kind === "ssh");
}

/** Pure: a receiving config must say so, and may not push on (a loop of hosts pushing to each other). */
export function receiverProblem(config: Config): string | undefined {
  if (config.source !== "push") return 'this config follows a credentials file: a receiving host needs `"source": "push"` in its config';
  if (config.targets.some((t) => t.kind === "ssh")) return "a receiving host does not push on: remove its ssh targets";
  if (localTargets(config).length === 0) return "a receiving host needs at least one local target";
  return undefined;
}
