import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

export const TEST_IMAGE = "oauth-sync-test/busybox:1";

/** A compose project shaped like an OpenClaw deployment: the gateway reads `.env`, a sidecar does not. */
export async function createComposeProject(options: { healthcheck?: string[] } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "oauth-sync-compose-"));
  const name = `oauth-sync-test-${randomBytes(4).toString("hex")}`;
  const health = options.healthcheck
    ? `    healthcheck:\n      test: ${JSON.stringify(options.healthcheck)}\n      interval: 1s\n      timeout: 1s\n      retries: 2\n      start_period: 0s\n`
    : "";
  await writeFile(
    join(dir, "docker-compose.yml"),
    `name: ${name}
services:
  openclaw-gateway:
    image: ${TEST_IMAGE}
    network_mode: none
    env_file: .env
    init: true
    stop_grace_period: 1s
    command: ["sleep", "3600"]
${health}  sidecar:
    image: ${TEST_IMAGE}
    network_mode: none
    init: true
    stop_grace_period: 1s
    command: ["sleep", "3600"]
`,
  );
  await writeFile(join(dir, ".env"), "# compose settings\nANTHROPIC_OAUTH_TOKEN=placeholder\nTZ=UTC\n", { mode: 0o600 });
  const docker = (...args: string[]) => Bun.$`docker ${args}`.cwd(dir).quiet().nothrow();
  return {
    dir,
    name,
    envFile: join(dir, ".env"),
    docker,
    async up() {
      const result = await docker("compose", "up", "-d");
      if (result.exitCode !== 0) throw new Error(`compose up failed: ${result.stderr}`);
    },
    async containerId(service: string): Promise<string> {
      return (await docker("compose", "ps", "-q", service)).stdout.toString().trim();
    },
    /** The variable as the running container sees it. */
    async envInside(service: string, variable: string): Promise<string | undefined> {
      const out = (await docker("compose", "exec", "-T", service, "env")).stdout.toString();
      return new RegExp(`^${variable}=(.*)$`, "m").exec(out)?.[1];
    },
    async startedAt(id: string): Promise<string> {
      return (await docker("inspect", "-f", "{{.State.StartedAt}}", id)).stdout.toString().trim();
    },
    async exists(id: string): Promise<boolean> {
      return (await docker("inspect", id)).exitCode === 0;
    },
    async remove() {
      await docker("compose", "down", "--remove-orphans", "-t", "1");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type ComposeProject = Awaited<ReturnType<typeof createComposeProject>>;
