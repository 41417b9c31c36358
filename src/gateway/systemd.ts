import type { z } from "../config/zod.ts";
import { minimalEnv } from "../process/run.ts";
import { outputTail } from "../process/output.ts";
import type { systemdGateway } from "../config/gateway.ts";
import type { ReloadDeps, ReloadResult } from "./types.ts";

type Config = z.infer<typeof systemdGateway>;

/** `--machine=USER@` reaches that user's manager and bus without borrowing their environment. */
export function systemctlArgv(gateway: Pick<Config, "user">, ...args: string[]): string[] {
  return gateway.user ? ["systemctl", "--user", `--machine=${gateway.user}@`, ...args] : ["systemctl", ...args];
}

export async function reloadSystemd(gateway: Config, deps: ReloadDeps): Promise<ReloadResult> {
  const options = { env: minimalEnv(), timeoutMs: gateway.timeoutSeconds * 1000 };
  const restart = await deps.run(systemctlArgv(gateway, "restart", gateway.unit), options);
  if (restart.spawnError) return { ok: false, error: `systemctl not found: ${restart.spawnError}` };
  if (restart.code !== 0) return { ok: false, error: `systemctl restart ${gateway.unit} failed: ${lastLine(restart.stderr)}` };
  const active = await deps.run(systemctlArgv(gateway, "is-active", gateway.unit), options);
  const state = active.stdout.trim();
  if (state !== "active" && state !== "activating") {
    return { ok: false, error: `${gateway.unit} is ${state || "unknown"} after the restart: see journalctl ${gateway.user ? "--user " : ""}-u ${gateway.unit}` };
  }
  return { ok: true, detail: `restarted ${gateway.unit}${gateway.user ? ` (user ${gateway.user})` : ""}` };
}

export function lastLine(text: string): string {
  return outputTail(text) || "no output";
}
