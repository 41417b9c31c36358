import type { z } from "../config/zod.ts";
import type { ClaudeCredentials } from "../credentials/parse.ts";
import type { openclawCliTargetSchema } from "../config/schema.ts";
import { redact } from "../log/redact.ts";
import { outputTail } from "../process/output.ts";
import { minimalEnv } from "../process/run.ts";
import { dockerEnv } from "../gateway/compose.ts";
import { ownerRun } from "../privilege/owner-run.ts";
import { join } from "node:path";
import type { SyncContext, Target, TargetOutcome } from "./types.ts";
import { targetId } from "./types.ts";
import { comparedWithDelivered } from "./newer.ts";

type Config = z.infer<typeof openclawCliTargetSchema>;

/** argv for `openclaw models auth paste-token`; the token itself goes on stdin. */
export function pasteTokenArgv(config: Config, credentials: ClaudeCredentials, now: number): string[] {
  const seconds = Math.max(60, Math.floor((credentials.expiresAt - now) / 1000));
  const agent = config.agent ? ["--agent", config.agent] : [];
  return [...config.command, "models", "auth", "paste-token", "--provider", "anthropic", ...agent, "--profile-id", config.profileId, "--expires-in", `${seconds}s`];
}

/** Pure: turn a failed run into one line a person can act on. */
export function explainCliFailure(output: string, command: string[]): string {
  const text = redact(output);
  if (/AUTH_PROFILE_MIGRATION_REQUIRED|migration required/i.test(text)) {
    return `OpenClaw refuses to run until its legacy auth files are migrated: run \`${command.join(" ")} doctor --fix\` once (it rewrites openclaw.json; back it up first), then remove any oauth-sync JSON targets for this install`;
  }
  return outputTail(output, 3) || "no output";
}

/**
 * A command that runs OpenClaw inside a docker container: docker's socket is root's and the engine maps the user.
 * Rootless podman is the user's own engine: it runs as that user, like a host openclaw (its HOME decides whose).
 */
export function runsInContainer(command: string[]): boolean {
  return /(^|\/)docker$/.test(command[0] ?? "");
}

/** The state directory a host `openclaw` reads: OPENCLAW_STATE_DIR, or HOME/.openclaw. */
export function openclawStateDir(env: Record<string, string>): string {
  return env.OPENCLAW_STATE_DIR ?? join(env.HOME ?? process.env.HOME ?? "/root", ".openclaw");
}

/**
 * How to run this target's openclaw: in a container as root (docker, reaching the engine this process was pointed at
 * through DOCKER_HOST and the like, as the gateway reload does), on the host as the owner of its state dir.
 */
export function openclawRunAs(config: Pick<Config, "command" | "env" | "user">) {
  if (runsInContainer(config.command)) return { ok: true as const, options: { env: { ...dockerEnv(), ...config.env } } };
  const env = minimalEnv(config.env);
  return ownerRun(openclawStateDir(env), env, config.user);
}

/** OpenClaw ≥ 2026.6 keeps profiles in SQLite: the only safe writer is OpenClaw's own CLI. */
export function openclawCliTarget(config: Config): Target {
  const id = targetId(config);
  return {
    id,
    config,
    async sync(credentials: ClaudeCredentials, context: SyncContext): Promise<TargetOutcome> {
      const before = comparedWithDelivered(context.state, credentials);
      if (before === "same") return { id, status: "unchanged" };
      if (before && !config.replaceNewer && !context.force) return { id, status: "refused", message: before.refusal };
      const argv = pasteTokenArgv(config, credentials, context.now);
      const as = openclawRunAs(config);
      if (!as.ok) return { id, status: "refused", message: as.message };
      // Older releases read the pipe with an interactive prompt that submits on CR and echoes the token: discard stdout.
      const result = await context.run(argv, {
        ...as.options,
        stdin: `${credentials.accessToken}\r`,
        timeoutMs: config.timeoutSeconds * 1000,
        captureStdout: false,
      });
      if (result.spawnError) return { id, status: "failed", message: `cannot run ${config.command[0]}: ${result.spawnError}` };
      if (result.timedOut) return { id, status: "failed", message: `${config.command.join(" ")} timed out after ${config.timeoutSeconds}s` };
      if (result.code !== 0) {
        return { id, status: "failed", message: `${config.command.join(" ")} models auth paste-token exited ${result.code}: ${explainCliFailure(result.stderr, config.command)}` };
      }
      return { id, status: "written" };
    },
  };
}
