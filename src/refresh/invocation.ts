import { dirname, join } from "node:path";
import type { ContainerTriggerConfig, HostTriggerConfig } from "../config/refresh.ts";
import { DEFAULT_PATH } from "../process/run.ts";

/** What the CLI needs to reach Anthropic, passed through from the service's environment; nothing else of it. */
export const PASS_THROUGH = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"] as const;

/** A trigger run needs no updater, telemetry or other side traffic. trigger.env can override these. */
export const QUIET_CLI = { DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" } as const;

/** docker's own variables, as the gateway reload passes them. */
const DOCKER_VARS = ["DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"] as const;

export const PROMPT_ARGS = ["-p", "say ok"];
export const AUTH_STATUS_ARGS = ["auth", "status"];

export interface Invocation {
  argv: string[];
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  cwd?: string;
}

export interface HostContext {
  credentials: string;
  /** The service's environment (process.env). */
  env: Record<string, string | undefined>;
  /** The user to run as, when it is not the service's own (root running a user's CLI). */
  runAs?: { uid: number; gid: number; home: string };
}

function passThrough(env: Record<string, string | undefined>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value) out[name] = value;
  }
  return out;
}

const cliArgs = (command: "auth-status" | "prompt") => (command === "prompt" ? PROMPT_ARGS : AUTH_STATUS_ARGS);

/**
 * Pure: the host-mode command line and its complete environment. CLAUDE_CONFIG_DIR is set only when the credentials
 * live elsewhere than HOME/.claude: setting it to HOME/.claude would move `.claude.json` (the CLI keeps it beside
 * the default dir, inside a configured one).
 */
export function hostInvocation(trigger: HostTriggerConfig, ctx: HostContext): Invocation {
  const home = trigger.home ?? ctx.runAs?.home ?? ctx.env.HOME ?? "/root";
  const configDir = trigger.configDir ?? (dirname(ctx.credentials) === join(home, ".claude") ? undefined : dirname(ctx.credentials));
  const env: Record<string, string> = {
    PATH: ctx.env.PATH || DEFAULT_PATH,
    HOME: home,
    ...(configDir ? { CLAUDE_CONFIG_DIR: configDir } : {}),
    ...passThrough(ctx.env, PASS_THROUGH),
    ...QUIET_CLI,
    ...trigger.env,
  };
  return { argv: [trigger.claude, ...cliArgs(trigger.command)], env, uid: ctx.runAs?.uid, gid: ctx.runAs?.gid, cwd: home };
}

export const ANTHROPIC_API = "https://api.anthropic.com";

/**
 * Pure: `docker exec [-u USER] [-e …] CONTAINER claude …`. The CLI runs with the container's own environment; the
 * service's proxy variables are not forced on it (the container has its own network). Only non-secret values go on
 * this command line.
 */
export function containerInvocation(trigger: ContainerTriggerConfig, serviceEnv: Record<string, string | undefined>): Invocation {
  const args = ["exec"];
  if (trigger.user) args.push("-u", trigger.user);
  const baseUrl = trigger.baseUrlOverride === true ? ANTHROPIC_API : trigger.baseUrlOverride || undefined;
  if (baseUrl) args.push("-e", `ANTHROPIC_BASE_URL=${baseUrl}`);
  for (const [name, value] of Object.entries({ ...QUIET_CLI, ...trigger.env })) args.push("-e", `${name}=${value}`);
  args.push(trigger.container, trigger.claude, ...cliArgs(trigger.command));
  const env: Record<string, string> = {
    PATH: serviceEnv.PATH || DEFAULT_PATH,
    ...(serviceEnv.HOME ? { HOME: serviceEnv.HOME } : {}),
    ...passThrough(serviceEnv, DOCKER_VARS),
  };
  return { argv: [trigger.docker, ...args], env };
}
