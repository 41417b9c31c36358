/**
 * Test bed: a booted systemd (Debian bookworm minbase) in a systemd-nspawn container (see systemd.sh).
 *
 *   import { bootSystemd, systemdAvailable } from "../bed/systemd.ts";
 *   const box = await bootSystemd("unit-install");        // fresh copy of the cached root, booted
 *   await box.copyIn(BINARY, "/usr/local/bin/oauth-sync");
 *   const r = await box.exec(["systemctl", "is-system-running"]);   // { code, stdout, stderr }
 *   await box.stop();                                      // clean shutdown, folder removed
 *
 * Names must be unique among the containers running at the same time (a container left over under the
 * same name from an earlier, crashed run is stopped and replaced). A container the test does not stop is
 * stopped by a detached watcher within about a second of the test process ending (bun test emits no
 * process "exit" event, so an exit hook would not do).
 */
import { chmodSync, cpSync, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

export const SYSTEMD_BED_SCRIPT = join(import.meta.dir, "systemd.sh");
const INSIDE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Extra variables; the command otherwise gets only PATH, HOME=/root, LANG=C.UTF-8, TERM=dumb. */
  env?: Record<string, string>;
  stdin?: string | Uint8Array;
  timeoutMs?: number;
}

export interface SystemdContainer {
  name: string;
  /** PID 1 of the container, as seen from the host. */
  pid: number;
  /** The container's `/` on the host: files written here are visible inside at once. */
  root: string;
  /** Runs `cmd` inside every namespace of the container (nsenter -a); never throws on a non-zero exit. */
  exec(cmd: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Copies a host file or folder to `pathInside` (parents created, mode kept). */
  copyIn(hostPath: string, pathInside: string): Promise<void>;
  /** Orderly shutdown, then the container's folder is removed. Safe to call twice. */
  stop(): Promise<void>;
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

async function run(
  cmd: string[],
  options: { stdin?: string | Uint8Array; timeoutMs?: number; echo?: boolean; env?: Record<string, string> } = {},
): Promise<ExecResult> {
  const proc = Bun.spawn(cmd, {
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs,
  });
  let stderr = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of proc.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      stderr += text;
      if (options.echo) process.stderr.write(text);
    }
  })();
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited, pump]);
  return { code, stdout, stderr };
}

async function script(args: string[], echo = false, env: Record<string, string> = {}): Promise<string> {
  const started = performance.now();
  const result = await run(["bash", SYSTEMD_BED_SCRIPT, ...args], { echo, env, timeoutMs: 30 * 60_000 });
  if (result.code !== 0) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    throw new Error(`${SYSTEMD_BED_SCRIPT} ${args.join(" ")} failed (exit ${result.code}) after ${seconds}s:\n${tail(result.stderr)}`);
  }
  return result.stdout.trim();
}

/**
 * The root a container boots: Debian bookworm minbase with systemd (default), or `containers`: Debian trixie with
 * rootless Podman 5 (Quadlet), Docker and Compose v2 working inside (see systemd.sh).
 */
export type SystemdFlavour = "default" | "containers";

const prepared = new Map<SystemdFlavour, Promise<void>>();
const flavourEnv = (flavour: SystemdFlavour): Record<string, string> => (flavour === "default" ? {} : { SYSTEMD_BED_FLAVOUR: flavour });

/** Installs the tools and builds the cached root, once per process and flavour (progress shown on stderr). */
export function prepareSystemd(flavour: SystemdFlavour = "default"): Promise<void> {
  let done = prepared.get(flavour);
  if (!done) prepared.set(flavour, (done = script(["prepare"], true, flavourEnv(flavour)).then(() => undefined)));
  return done;
}

/** Boots a fresh container named `name` (letters, digits, . _ -) and waits until systemd is running. */
export async function bootSystemd(name: string, options: { flavour?: SystemdFlavour } = {}): Promise<SystemdContainer> {
  const flavour = options.flavour ?? "default";
  await prepareSystemd(flavour);
  let pid: number;
  let root: string;
  try {
    pid = Number(await script(["boot", name], false, { SYSTEMD_BED_OWNER_PID: String(process.pid), ...flavourEnv(flavour) }));
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`systemd.sh boot ${name} printed no PID`);
    root = await script(["root", name]);
  } catch (error) {
    await script(["stop", name]).catch(() => {});
    throw error;
  }
  let stopped = false;

  const container: SystemdContainer = {
    name,
    pid,
    root,
    exec(cmd, options = {}) {
      if (stopped) return Promise.reject(new Error(`container ${name} is stopped`));
      const env = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`);
      const enter = ["nsenter", "-t", String(pid), "-a", "--", "env", "-i", `PATH=${INSIDE_PATH}`, "HOME=/root", "LANG=C.UTF-8", "TERM=dumb", ...env, ...cmd];
      // A containers-flavour machine's logind (linger, user managers) only knows callers inside its cgroup tree.
      const cgroup = `/sys/fs/cgroup/unified/oauth-sync-bed-${name}/payload`;
      const argv = flavour === "containers" && existsSync(cgroup) ? ["sh", "-c", `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, "sh", ...enter] : enter;
      return run(argv, { stdin: options.stdin, timeoutMs: options.timeoutMs ?? 120_000 });
    },
    async copyIn(hostPath, pathInside) {
      if (!pathInside.startsWith("/")) throw new Error(`copyIn: ${pathInside} is not an absolute path inside the container`);
      const target = join(root, pathInside);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(hostPath, target, { recursive: true, force: true, preserveTimestamps: true });
      if (statSync(hostPath).isFile()) chmodSync(target, statSync(hostPath).mode & 0o7777);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await script(["stop", name]);
    },
  };
  return container;
}
