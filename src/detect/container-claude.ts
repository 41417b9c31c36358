import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { ProcessRunner } from "../process/run.ts";
import type { Found } from "./openclaw.ts";
import { dockerEnv } from "../gateway/compose.ts";

export interface ContainerClaude {
  container: string;
  user?: string;
  /** The credentials file on the host, through the container's mounts, where one maps there. */
  hostCredentials?: string;
  /** ANTHROPIC_BASE_URL in the container's environment when it is not Anthropic's (a LiteLLM-style proxy). */
  proxyBaseUrl?: string;
}

interface Mount {
  Source: string;
  Destination: string;
}

/** Pure: where a credentials file inside the container lives on the host, through a bind mount. */
export function hostPathOf(mounts: Mount[], home: string, configDir?: string): string[] {
  const inside = [join(configDir ?? join(home, ".claude"), ".credentials.json")];
  const paths: string[] = [];
  for (const file of inside) {
    for (const m of mounts) {
      if (file === m.Destination) paths.push(m.Source);
      else if (file.startsWith(`${m.Destination}/`)) paths.push(join(m.Source, file.slice(m.Destination.length + 1)));
    }
  }
  return paths;
}

/** Pure: a base URL that sends the CLI elsewhere than Anthropic (then the trigger overrides it for its exec). */
export function proxyBaseUrl(env: string[]): string | undefined {
  const value = env.find((e) => e.startsWith("ANTHROPIC_BASE_URL="))?.slice("ANTHROPIC_BASE_URL=".length);
  return value && !/^https:\/\/api\.anthropic\.com\/?$/.test(value) ? value : undefined;
}

/** Running containers that have the `claude` CLI, with their login mapped back to a host path. */
export async function findContainerClaude(run: ProcessRunner): Promise<Found<ContainerClaude>[]> {
  const docker = (...args: string[]) => run(["docker", ...args], { env: dockerEnv(), timeoutMs: 15_000 });
  const ps = await docker("ps", "--format", "{{.Names}}");
  if (ps.code !== 0) return [];
  const found: Found<ContainerClaude>[] = [];
  for (const name of ps.stdout.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const has = await docker("exec", name, "sh", "-c", "command -v claude");
    if (has.code !== 0) continue;
    const inspect = await docker("inspect", "--format", "{{json .Mounts}}\t{{json .Config.Env}}\t{{.Config.User}}", name);
    const [mountsJson = "[]", envJson = "[]", user = ""] = inspect.stdout.trim().split("\t");
    const mounts: Mount[] = JSON.parse(mountsJson);
    const env: string[] = JSON.parse(envJson) ?? [];
    const home = env.find((e) => e.startsWith("HOME="))?.slice(5) || (user && user !== "root" && user !== "0" ? `/home/${user}` : "/root");
    let hostCredentials: string | undefined;
    const configDir = env.find((e) => e.startsWith("CLAUDE_CONFIG_DIR="))?.slice("CLAUDE_CONFIG_DIR=".length) || undefined;
    for (const candidate of hostPathOf(mounts, home, configDir)) if (await stat(candidate).catch(() => undefined)) hostCredentials = candidate;
    const value: ContainerClaude = { container: name, user: user || undefined, hostCredentials, proxyBaseUrl: proxyBaseUrl(env) };
    found.push({ value, source: `container ${name}: \`claude\` at ${has.stdout.trim()}${hostCredentials ? `, login mounted from ${hostCredentials}` : ", login not on a host mount"}` });
  }
  return found;
}
