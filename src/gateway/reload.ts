import { minimalEnv } from "../process/run.ts";
import { reloadCompose } from "./compose.ts";
import type { GatewayConfig } from "../config/gateway.ts";
import { reloadBySignal } from "./signal.ts";
import { lastLine, reloadSystemd } from "./systemd.ts";
import type { ReloadDeps, ReloadResult } from "./types.ts";

/** Make the running gateway pick up what the targets now hold. One attempt; retries are the scheduler's. */
export async function reloadGateway(gateway: GatewayConfig, deps: ReloadDeps): Promise<ReloadResult> {
  switch (gateway.kind) {
    case "none":
      return { ok: true, detail: "no gateway reload configured" };
    case "compose":
      return reloadCompose(gateway, deps);
    case "systemd":
      return reloadSystemd(gateway, deps);
    case "signal":
      return reloadBySignal(gateway, deps);
    case "command": {
      const result = await deps.run(gateway.command, { env: minimalEnv(gateway.env), timeoutMs: gateway.timeoutSeconds * 1000 });
      if (result.spawnError) return { ok: false, error: `cannot run ${gateway.command[0]}: ${result.spawnError}` };
      if (result.timedOut) return { ok: false, error: `${gateway.command[0]} timed out after ${gateway.timeoutSeconds}s` };
      if (result.code !== 0) return { ok: false, error: `${gateway.command.join(" ")} exited ${result.code}: ${lastLine(result.stderr + result.stdout)}` };
      return { ok: true, detail: `ran ${gateway.command.join(" ")}` };
    }
  }
}
