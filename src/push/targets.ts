import type { Config } from "../config/schema.ts";
import type { SshTargetConfig } from "../config/ssh.ts";

/** The receiving hosts of a config: its `ssh` targets. */
export function sshTargets(config: Config): SshTargetConfig[] {
  return config.targets.filter((t): t is SshTargetConfig => t.kind === "ssh");
}
