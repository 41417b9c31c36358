import { stat } from "node:fs/promises";
import { outputTail } from "../process/output.ts";
import { DEFAULT_PATH, type RunResult } from "../process/run.ts";
import { parseComposePs, serviceReadiness, type ContainerState } from "./compose-ps.ts";
import { explainDockerFailure } from "./docker-errors.ts";
import type { ComposeGatewayConfig } from "../config/gateway.ts";
import type { ReloadDeps, ReloadResult } from "./types.ts";

const DOCKER_VARIABLES = ["DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"];

/**
 * The whole environment docker compose gets. Compose lets the caller's variables beat `.env` when it interpolates,
 * so a stale ANTHROPIC_OAUTH_TOKEN inherited by the service would win over the fresh file: pass nothing else.
 */
export function dockerEnv(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: source.PATH || DEFAULT_PATH };
  if (source.HOME) env.HOME = source.HOME;
  for (const name of DOCKER_VARIABLES) if (source[name]) env[name] = source[name]!;
  return env;
}

export function composeArgv(gateway: ComposeGatewayConfig, ...args: string[]): string[] {
  return [gateway.docker, "compose", ...gateway.files.flatMap((file) => ["-f", file]), ...args];
}

export async function reloadCompose(gateway: ComposeGatewayConfig, deps: ReloadDeps): Promise<ReloadResult> {
  const dir = await stat(gateway.projectDir).catch(() => undefined);
  if (!dir?.isDirectory()) return { ok: false, error: `gateway.projectDir ${gateway.projectDir} is not a directory: point it at the OpenClaw compose project` };
  const deadline = deps.now() + gateway.timeoutSeconds * 1000;
  const compose = (...args: string[]) =>
    deps.run(composeArgv(gateway, ...args), { env: dockerEnv(), cwd: gateway.projectDir, timeoutMs: Math.max(1000, deadline - deps.now()) });
  const failure = (result: RunResult, what: string): ReloadResult => ({
    ok: false,
    error: `${what}: ${result.spawnError ? `${gateway.docker} not found: install Docker or set gateway.docker` : result.timedOut ? `timed out after ${gateway.timeoutSeconds}s` : explainDockerFailure(result.stderr + result.stdout, gateway)}`,
  });

  const before = await compose("ps", "--all", "--format", "json", gateway.service);
  if (before.code !== 0) return failure(before, "docker compose ps");
  const oldIds = ids(parseComposePs(before.stdout), gateway.service);

  if (gateway.strategy === "down-up") {
    const down = await compose("down");
    if (down.code !== 0) return failure(down, "docker compose down");
    const up = await compose("up", "-d");
    if (up.code !== 0) return failure(up, "docker compose up -d");
  } else {
    const up = await compose("up", "-d", "--force-recreate", "--no-deps", gateway.service);
    if (up.code !== 0) return failure(up, `docker compose up -d --force-recreate --no-deps ${gateway.service}`);
  }

  for (;;) {
    const ps = await compose("ps", "--all", "--format", "json", gateway.service);
    if (ps.code !== 0) return failure(ps, "docker compose ps");
    const containers = parseComposePs(ps.stdout);
    const readiness = serviceReadiness(containers, gateway.service);
    if (readiness.ready) {
      const newIds = ids(containers, gateway.service);
      return { ok: true, detail: `${gateway.strategy} ${gateway.service}: container ${short(oldIds)} → ${short(newIds)}` };
    }
    if (readiness.failed || deps.now() > deadline) {
      const logs = await compose("logs", "--no-color", "--tail", "15", gateway.service);
      const tail = outputTail(logs.stdout + logs.stderr, 15, "\n");
      const why = readiness.failed ? readiness.why : `${readiness.why} after ${gateway.timeoutSeconds}s`;
      return { ok: false, error: `${why}; last log lines:\n${tail}` };
    }
    await deps.sleep(500);
  }
}

function ids(containers: ContainerState[], service: string): string[] {
  return containers.filter((c) => c.service === service).map((c) => c.id);
}

function short(list: string[]): string {
  return list.length ? list.map((id) => id.slice(0, 12)).join(",") : "(none)";
}
