/**
 * Test bed: the suite's own Docker engine + Compose v2 + the image `oauth-sync-test/busybox:1` (see docker.sh).
 *
 *   import { ensureDockerBed, dockerAvailable, docker, BUSYBOX_IMAGE } from "../bed/docker.ts";
 *   await ensureDockerBed();                        // throws (with the script's stderr tail) if impossible
 *   describe.skipIf(!(await dockerAvailable()))(…)  // or: skip, with a loud message, instead of failing
 *
 * Importing this module points every docker CLI this process runs at the suite's daemon (DOCKER_HOST and
 * DOCKER_CONFIG in process.env; test/run.ts sets them before the suites start, which Bun.spawn's default
 * environment needs: it is the one the process started with). A daemon already on the machine is never used
 * nor signalled. The daemon stops about a second after the last process that used it is gone.
 *
 * The engine has no bridge network: every container needs `--network none` (compose: `network_mode: none`).
 * No image can be pulled: use BUSYBOX_IMAGE (busybox with a link for every applet, PATH=/bin).
 */
import { join } from "node:path";

export const DOCKER_BED_SCRIPT = join(import.meta.dir, "docker.sh");
export const BUSYBOX_IMAGE = "oauth-sync-test/busybox:1";

const cache = process.env.OAUTH_SYNC_TESTBED_CACHE || join(process.env.HOME || "/root", ".cache/oauth-sync-testbed");
/** Where the suite's daemon keeps its socket, pid file and exec root. */
export const DOCKER_BED_RUN_DIR = process.env.DOCKER_BED_RUN_DIR || "/run/oauth-sync-test";
/** The variables that send a docker CLI to the suite's daemon (and its compose plugin): give them to every child that runs docker. */
export const DOCKER_BED_ENV: Readonly<Record<string, string>> = {
  DOCKER_HOST: `unix://${join(DOCKER_BED_RUN_DIR, "docker.sock")}`,
  DOCKER_CONFIG: join(cache, "docker-config"),
};
for (const name of ["DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"]) delete process.env[name];
Object.assign(process.env, DOCKER_BED_ENV);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

let setup: Promise<void> | undefined;
let failure: string | undefined;

/** Keep the last `lines` lines of `text`. */
function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

async function runScript(args: string[], done: string, echo = false): Promise<void> {
  const started = performance.now();
  const env = { ...process.env, DOCKER_BED_USER_PID: String(process.pid) };
  const proc = Bun.spawn(["bash", DOCKER_BED_SCRIPT, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  // Keep the progress for the error message; show it as it happens for the first setup (it may install packages).
  let stderr = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of proc.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      stderr += text;
      if (echo) process.stderr.write(text);
    }
  })();
  const [code] = await Promise.all([proc.exited, pump, new Response(proc.stdout).text()]);
  if (code !== 0 || !new RegExp(`^docker-bed: ${done}$`, "m").test(stderr)) {
    throw new Error(`${[DOCKER_BED_SCRIPT, ...args].join(" ")} failed (exit ${code}) after ${((performance.now() - started) / 1000).toFixed(1)}s:\n${tail(stderr)}`);
  }
}

/** Runs docker.sh once per process (later calls share the first call's outcome, success or failure). */
export function ensureDockerBed(): Promise<void> {
  setup ??= runScript([], "ready", true).catch((error: unknown) => {
    failure = error instanceof Error ? error.message : String(error);
    throw error;
  });
  return setup;
}

/**
 * Starts the suite's dockerd again if it is not answering (runs docker.sh every time, not cached: ~0.2 s when the
 * engine is up, ~1 s when it has to start it). For tests that stop the engine on purpose.
 */
export function startDockerd(): Promise<void> {
  return runScript([], "ready");
}

/**
 * Stops the suite's dockerd (SIGTERM; SIGKILL after 30 s) and waits until it is gone: an outage. Its containers
 * stop with it. Bring it back with startDockerd(). No other daemon is touched.
 */
export function stopDockerd(): Promise<void> {
  return runScript(["stop"], "stopped");
}

/**
 * True when the bed is ready. False (after printing a loud message on stderr) when docker.sh failed:
 * for `describe.skipIf`. The reason is in `dockerUnavailableReason()`.
 */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await ensureDockerBed();
    return true;
  } catch {
    console.error(`\n!!! SKIPPING Docker tests: the Docker test bed could not be set up !!!\n${failure}\n`);
    return false;
  }
}

export function dockerUnavailableReason(): string | undefined {
  return failure;
}

/** Runs the docker CLI (`docker compose …` too); never throws on a non-zero exit. */
export async function docker(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string | Uint8Array; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const proc = Bun.spawn(["docker", ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 120_000,
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
