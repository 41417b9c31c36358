import type { z } from "../config/zod.ts";
import { minimalEnv } from "../process/run.ts";
import { outputTail } from "../process/output.ts";
import type { systemdGateway } from "../config/gateway.ts";
import { loadAccounts } from "../users/accounts.ts";
import type { ReloadDeps, ReloadResult } from "./types.ts";

type Config = z.infer<typeof systemdGateway>;

/** How long after the restart the unit must still be up to count as restarted. */
const STILL_UP_AFTER_MS = 1000;

/** Who runs this process, for the choice of a systemd manager (a seam for tests). */
export interface Caller {
  euid: number;
  /** The name of `euid` in /etc/passwd, if any. */
  name?: string;
}

export function currentCaller(): Caller {
  const euid = process.geteuid?.() ?? 0;
  return { euid, name: euid === 0 ? "root" : loadAccounts().byUid(euid)?.name };
}

/**
 * Which manager restarts the unit. Root reaches another user's manager with `--machine=USER@`. A user's own service
 * (a `--user` install) cannot: systemctl then fails with "Failed to connect to bus: Permission denied", so it talks to
 * its own manager through its own bus (`--user` with XDG_RUNTIME_DIR, see `systemctlEnvFor`); a process that is not
 * root cannot restart a system unit, so without `user` it means its own manager too.
 */
export function systemctlArgv(gateway: Pick<Config, "user">, caller: Caller, ...args: string[]): string[] {
  if (caller.euid !== 0 && (!gateway.user || gateway.user === caller.name || gateway.user === String(caller.euid))) return ["systemctl", "--user", ...args];
  return gateway.user ? ["systemctl", "--user", `--machine=${gateway.user}@`, ...args] : ["systemctl", ...args];
}

/** The environment for that systemctl: a user's own manager is found through XDG_RUNTIME_DIR (/run/user/UID). */
export function systemctlEnvFor(caller: Caller): Record<string, string> {
  return minimalEnv(caller.euid !== 0 ? { XDG_RUNTIME_DIR: `/run/user/${caller.euid}` } : {});
}

export async function reloadSystemd(gateway: Config, deps: ReloadDeps, caller: Caller = currentCaller()): Promise<ReloadResult> {
  const options = { env: systemctlEnvFor(caller), timeoutMs: gateway.timeoutSeconds * 1000 };
  const argv = (...args: string[]) => systemctlArgv(gateway, caller, ...args);
  const restart = await deps.run(argv("restart", gateway.unit), options);
  if (restart.spawnError) return { ok: false, error: `systemctl not found: ${restart.spawnError}` };
  // systemctl's whole error (redacted, one line per line joined): its last line alone hides the cause.
  if (restart.code !== 0) return { ok: false, error: `${argv("restart", gateway.unit).join(" ")} failed (exit ${restart.code}): ${wholeError(restart.stderr + restart.stdout)}` };
  // `restart` returns once the new process is started (Type=simple): a gateway that dies at once is still "active"
  // for a moment, and one with Restart=on-failure (OpenClaw's own unit) is "activating (auto-restart)" between its
  // deaths. Looked at again a little later, so a unit that cannot stay up is reported, not counted as reloaded.
  let restartsAtFirst: number | undefined;
  for (const wait of [0, STILL_UP_AFTER_MS]) {
    if (wait) await deps.sleep(wait);
    const shown = properties((await deps.run(argv("show", "-p", "ActiveState", "-p", "SubState", "-p", "NRestarts", gateway.unit), options)).stdout);
    const [state, sub, restarts] = [shown.ActiveState || "unknown", shown.SubState, Number(shown.NRestarts ?? 0)];
    restartsAtFirst ??= restarts;
    if (!UP.has(state) || sub === "auto-restart" || restarts > restartsAtFirst) {
      const how = `${state}${sub ? ` (${sub})` : ""}${restarts > restartsAtFirst ? `, restarted by systemd ${restarts - restartsAtFirst} time(s)` : ""}`;
      return { ok: false, error: `${gateway.unit} is ${how} after the restart: see journalctl ${argv()[1] === "--user" ? "--user " : ""}-u ${gateway.unit}` };
    }
  }
  return { ok: true, detail: `restarted ${gateway.unit}${gateway.user ? ` (user ${gateway.user})` : argv()[1] === "--user" ? " (own user manager)" : ""}` };
}

/** The states of a unit that is up or on its way (`systemctl show`'s ActiveState). */
const UP = new Set(["active", "activating", "reloading"]);

/** Pure: `systemctl show -p …` output (KEY=value lines) → its properties. */
function properties(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").flatMap((line) => (line.includes("=") ? [[line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).trim()]] : [])));
}

export function lastLine(text: string): string {
  return outputTail(text) || "no output";
}

/** Up to 20 lines of a command's output, redacted, joined into one line. */
export function wholeError(text: string): string {
  return outputTail(text, 20) || "no output";
}
