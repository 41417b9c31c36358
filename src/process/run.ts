import { spawn } from "node:child_process";

export interface RunOptions {
  /** Written to the child's stdin, then stdin is closed. Secrets go here, never in argv. */
  stdin?: string;
  /** The child's whole environment: nothing is inherited unless passed. */
  env: Record<string, string>;
  timeoutMs: number;
  cwd?: string;
  /** Keep stdout (default true). Off for commands that echo the secret they were fed. */
  captureStdout?: boolean;
  /** Run as this user and group (the service runs as root, the CLI as the user who owns its login). */
  uid?: number;
  gid?: number;
  /**
   * Start it as the leader of a process group of its own, and kill whatever is left in that group when it exits or
   * times out: a program of the operator's (an `exec` target) may start others that would outlive it, holding what
   * it was fed.
   */
  group?: boolean;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the command could not start at all (ENOENT, EACCES). */
  spawnError?: string;
}

export type ProcessRunner = (argv: string[], options: RunOptions) => Promise<RunResult>;

const MAX_OUTPUT = 64 * 1024;
/** After the child exits (or is killed), how long its pipes may stay open in something it left behind. */
const PIPE_GRACE_MS = 2000;

export const runProcess: ProcessRunner = (argv, options) =>
  new Promise((resolve) => {
    const [command, ...args] = argv;
    if (!command) return resolve({ code: null, stdout: "", stderr: "", timedOut: false, spawnError: "empty command" });
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, uid: options.uid, gid: options.gid, stdio: ["pipe", "pipe", "pipe"], detached: options.group === true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    let exitCode: number | null = null;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const finish = (result: RunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      resolve(result);
    };
    // A grandchild that keeps our pipes open must not keep us waiting: the result is what we have by then.
    const giveUpOnPipes = () => {
      grace ??= setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish({ code: exitCode, stdout, stderr, timedOut });
      }, PIPE_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill(child.pid, options.group === true);
      child.kill("SIGKILL");
      giveUpOnPipes();
    }, options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      if (options.captureStdout !== false && stdout.length < MAX_OUTPUT) stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk.toString();
    });
    child.on("error", (error: NodeJS.ErrnoException) =>
      finish({ code: null, stdout, stderr, timedOut, spawnError: `${command}: ${error.code === "ENOENT" ? "command not found" : error.message}` }),
    );
    child.on("exit", (code) => {
      exitCode = code;
      kill(child.pid, options.group === true);
      giveUpOnPipes();
    });
    child.on("close", (code) => finish({ code, stdout, stderr, timedOut }));
    child.stdin.on("error", () => {}); // the child may exit before reading its stdin
    child.stdin.end(options.stdin ?? "");
  });

function kill(pid: number | undefined, group: boolean) {
  if (!group || pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
}

/** The PATH a child gets where none is given: the usual system directories, as systemd sets it for services. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** PATH and HOME from this process, for a child that needs to find its binary and nothing more. */
export function minimalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env.PATH || DEFAULT_PATH };
  if (process.env.HOME) base.HOME = process.env.HOME;
  return { ...base, ...extra };
}
