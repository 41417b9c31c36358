import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { waitUntil } from "./wait.ts";

/** OAUTH_SYNC_BINARY runs a benchmark against another build (e.g. the one before a fix). */
export const BINARY = process.env.OAUTH_SYNC_BINARY ?? join(import.meta.dir, "../../dist/oauth-sync");

export function requireBinary(): string {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`bun build.ts\` first (npm test does)`);
  return BINARY;
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the output contains `text`. */
  waitFor: (text: string | RegExp, timeoutMs?: number) => Promise<void>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * The clean environment the binary runs with: PATH, HOME and, where the suite's Docker daemon is in use
 * (test/bed/docker.ts puts it in process.env), the variables that send the binary's docker calls there.
 */
export function binaryEnv(env: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" };
  for (const name of ["DOCKER_HOST", "DOCKER_CONFIG"]) if (process.env[name]) base[name] = process.env[name]!;
  return { ...base, ...env };
}

/** Start the compiled binary with a clean environment; output is collected for assertions. */
export function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(requireBinary(), args, { env: binaryEnv(env) });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    output: () => output,
    async waitFor(text, timeoutMs = 10_000) {
      const printed = () => {
        if (typeof text === "string" ? output.includes(text) : text.test(output)) return true;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited ${child.exitCode ?? child.signalCode} before printing ${text}:\n${output}`);
        return false;
      };
      await waitUntil(String(text), printed, { timeoutMs, intervalMs: 10, detail: () => output });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Run the binary to completion. */
export async function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([requireBinary(), ...args], {
    env: binaryEnv(env),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, output: stdout + stderr };
}
