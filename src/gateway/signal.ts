import { stat } from "node:fs/promises";
import { readRegularFile } from "../fs/open-file.ts";
import type { z } from "../config/zod.ts";
import { describeFsError } from "../fs/errors.ts";
import { minimalEnv } from "../process/run.ts";
import type { signalGateway } from "../config/gateway.ts";
import { lastLine } from "./systemd.ts";
import type { ReloadDeps, ReloadResult } from "./types.ts";

type Config = z.infer<typeof signalGateway>;

async function targetPid(gateway: Config, deps: ReloadDeps): Promise<{ pid: number } | { error: string }> {
  if (gateway.pidFile) {
    const read = readRegularFile(gateway.pidFile, 4096);
    if (!read.ok) return { error: describeFsError("read pid file", gateway.pidFile, read) };
    const pid = Number.parseInt(read.text.trim(), 10);
    if (!(pid > 1)) return { error: `${gateway.pidFile} holds no pid` };
    // A pid file its owner can write must not let them aim our signal at somebody else's process.
    const owner = await stat(`/proc/${pid}`).then((info) => info.uid).catch(() => undefined);
    if (read.info.uid !== 0 && owner !== undefined && owner !== read.info.uid) {
      return { error: `${gateway.pidFile} (uid ${read.info.uid}) names pid ${pid}, which belongs to uid ${owner}: not signalled` };
    }
    return { pid };
  }
  const show = await deps.run(["systemctl", "show", "--property=MainPID", "--value", gateway.unit!], { env: minimalEnv(), timeoutMs: 10_000 });
  const pid = Number.parseInt(show.stdout.trim(), 10);
  if (show.code !== 0) return { error: `systemctl show ${gateway.unit} failed: ${lastLine(show.stderr)}` };
  return pid > 1 ? { pid } : { error: `${gateway.unit} has no main process (is it running?)` };
}

/** SIGUSR1 makes OpenClaw restart in-process: the cheapest reload where it is supported. */
export async function reloadBySignal(gateway: Config, deps: ReloadDeps): Promise<ReloadResult> {
  const found = await targetPid(gateway, deps);
  if ("error" in found) return { ok: false, error: found.error };
  try {
    process.kill(found.pid, gateway.signal as NodeJS.Signals);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ok: false, error: `cannot send ${gateway.signal} to pid ${found.pid}: ${code === "ESRCH" ? "no such process (stale pid file?)" : code === "EPERM" ? "not permitted (run as the gateway's user or root)" : String(error)}` };
  }
  return { ok: true, detail: `sent ${gateway.signal} to pid ${found.pid}` };
}
