/**
 * What `install` needs from the machine, checked before anything is detected or written: root (or `--user`), systemd
 * running as PID 1 (and the user's manager for `--user`), and a Docker engine that answers where the layout needs
 * one. Each missing piece is one line with the command that fixes it, and its own exit code (docs/ARCHITECTURE.md).
 */
import { existsSync, readFileSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import { EXIT, ExitError } from "../exit-codes.ts";
import { logger } from "../log/logger.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";

/** Docker as `docker version` found it: the engine answered, no docker CLI, no permission on its socket, or down. */
export type DockerState = { kind: "ok" } | { kind: "missing" } | { kind: "denied" } | { kind: "down"; detail: string };

export interface MachineFacts {
  uid: number;
  /** `/run/systemd/system` exists: systemd is the init system that booted this machine (sd_booted(3)). */
  systemdBooted: boolean;
  /** The name of PID 1 (`/proc/1/comm`), for the message when it is not systemd. */
  pid1: string;
  /** For `--user`: the user's own manager can be reached (its socket under $XDG_RUNTIME_DIR). */
  userManager: boolean;
  /** Asked only where it matters (see `dockerNeed`). */
  docker?: DockerState;
}

export interface PreflightOptions {
  user: boolean;
  dryRun: boolean;
  /** Whether this install puts systemd units in place. */
  systemd: boolean;
  /** "required": the layout given needs Docker; "useful": detection would look at containers; "no". */
  docker: "required" | "useful" | "no";
}

export interface Problem {
  code: number;
  line: string;
}

/** Pure: the problems (each ends the install with its code) and the remarks (printed, the install goes on). */
export function judge(facts: MachineFacts, options: PreflightOptions): { problems: Problem[]; remarks: string[] } {
  const problems: Problem[] = [];
  const remarks: string[] = [];
  if (!options.user && facts.uid !== 0) {
    problems.push({ code: EXIT.needsRoot, line: "install writes /usr/local/bin, /etc and systemd units: run it as root (sudo oauth-sync install …), or with --user for a per-user install" });
  }
  if (options.systemd && !facts.systemdBooted) {
    problems.push({
      code: EXIT.noSystemd,
      line: `systemd is not running as PID 1 (PID 1 is ${JSON.stringify(facts.pid1)}): install needs it for its units; here run \`oauth-sync watch --config FILE\` under your own supervisor, or install on the host`,
    });
  } else if (options.systemd && options.user && !facts.userManager) {
    problems.push({
      code: EXIT.noSystemd,
      line: "your systemd user manager cannot be reached ($XDG_RUNTIME_DIR/systemd/private): log in through a session (not `su`/`sudo -u`), or `sudo loginctl enable-linger $USER` and `export XDG_RUNTIME_DIR=/run/user/$(id -u)`",
    });
  }
  const docker = facts.docker;
  if (docker && docker.kind !== "ok") {
    const line =
      docker.kind === "missing"
        ? "the docker command is not installed or not on PATH"
        : docker.kind === "denied"
          ? "permission denied on the Docker socket: run as root, or add this user to the docker group (sudo usermod -aG docker $USER, then log in again)"
          : `the Docker engine does not answer (${docker.detail}): start it (sudo systemctl start docker)`;
    if (options.docker === "required") problems.push({ code: EXIT.dockerUnreachable, line: `Docker is needed here: ${line}` });
    else if (docker.kind !== "missing") remarks.push(`containers cannot be looked at: ${line}; or pass --openclaw-dir for an OpenClaw outside Docker`);
  }
  // A dry run changes nothing: what would stop the real install is said, and the dry run goes on.
  if (options.dryRun) return { problems: [], remarks: [...problems.map((p) => `a real install would stop here: ${p.line}`), ...remarks] };
  return { problems, remarks };
}

/**
 * Pure: whether the flags given already say the layout runs in Docker. A prepared config (`--config`) is asked once
 * it is read (`preflightConfig`); without one, detection looks at containers.
 */
export function dockerNeedOfFlags(args: Record<string, unknown>): PreflightOptions["docker"] {
  if (args.config) return "no";
  if (args.trigger === "container" || args.container || args["project-dir"]) return "required";
  return args["openclaw-dir"] ? "no" : "useful";
}

/** Pure: the docker CLIs a config (prepared, or proposed by detection) needs an engine behind, none if it runs without Docker. */
export function dockersOfConfig(config: Config): string[] {
  const dockers = new Set<string>();
  if (config.trigger.mode === "container") dockers.add(config.trigger.docker);
  if (config.gateway.kind === "compose") dockers.add(config.gateway.docker);
  for (const target of config.targets) if (target.kind === "openclaw-cli" && /(^|\/)docker$/.test(target.command[0]!)) dockers.add(target.command[0]!);
  return [...dockers];
}

export interface PreflightDeps {
  run: ProcessRunner;
  uid: () => number;
  exists: (path: string) => boolean;
  readText: (path: string) => string | undefined;
  env: NodeJS.ProcessEnv;
}

export const realPreflightDeps = (run: ProcessRunner): PreflightDeps => ({
  run,
  uid: () => process.getuid?.() ?? -1,
  exists: existsSync,
  readText: (path) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  },
  env: process.env,
});

/** Asks the engine the way the service will (`docker version`, the service's environment): it exits non-zero without one. */
export async function dockerState(run: ProcessRunner, docker = "docker"): Promise<DockerState> {
  const result = await run([docker, "version", "--format", "{{.Server.Version}}"], { env: minimalEnv(), timeoutMs: 15_000 });
  if (result.spawnError) return { kind: "missing" };
  if (result.code === 0) return { kind: "ok" };
  if (/permission denied/i.test(result.stderr)) return { kind: "denied" };
  const detail = result.timedOut ? "no answer in 15 s" : (result.stderr.trim().split("\n").at(-1) ?? "").slice(0, 200) || `exit ${result.code}`;
  return { kind: "down", detail };
}

async function facts(options: PreflightOptions, deps: PreflightDeps): Promise<MachineFacts> {
  const runtime = deps.env.XDG_RUNTIME_DIR;
  return {
    uid: deps.uid(),
    systemdBooted: deps.exists("/run/systemd/system"),
    pid1: (deps.readText("/proc/1/comm") ?? "unknown").trim(),
    userManager: Boolean(runtime && deps.exists(`${runtime}/systemd/private`)),
    ...(options.docker === "no" ? {} : { docker: await dockerState(deps.run) }),
  };
}

/** Checks the machine; logs each problem and ends with the first one's code, or logs the remarks and returns. */
export async function preflight(options: PreflightOptions, deps: PreflightDeps): Promise<void> {
  const { problems, remarks } = judge(await facts(options, deps), options);
  for (const remark of remarks) logger.warn(remark);
  if (!problems.length) return;
  for (const problem of problems) logger.error(problem.line);
  throw new ExitError(problems[0]!.code, "", problems.map((p) => p.line));
}

/** After detection: the config chosen needs Docker and the engine does not answer (nothing written yet). */
export async function preflightConfig(config: Config, options: Pick<PreflightOptions, "dryRun">, deps: PreflightDeps): Promise<void> {
  for (const command of dockersOfConfig(config)) {
    const docker = await dockerState(deps.run, command);
    const { problems, remarks } = judge({ uid: 0, systemdBooted: true, pid1: "systemd", userManager: true, docker }, { ...options, user: true, systemd: false, docker: "required" });
    for (const remark of remarks) logger.warn(remark);
    if (!problems.length) continue;
    logger.error(problems[0]!.line);
    throw new ExitError(problems[0]!.code, "", [problems[0]!.line]);
  }
}
