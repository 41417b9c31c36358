/**
 * OpenClaw's upstream compose layout end to end: upstream's docker-compose.yml (nested defaults), the `.env` its
 * setup.sh writes, and an override file (this machine has no bridge network and no registry: host network, OpenClaw
 * bind-mounted into a local image), a real 2026.9.6 gateway container whose state was made inside it by
 * `openclaw onboard` and `openclaw agents add`. `install --dry-run --yes` proposes one paste per agent through
 * `docker compose -f … -f … exec`; a real sync through that config lands in each agent's store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialsJson } from "../../src/demo/sandbox.ts";
import { DOCKER_BED_ENV, ensureDockerBed } from "../bed/docker.ts";
import { fakeToken, parseJsonOutput } from "../bed/openclaw.ts";
import { run as runBinary } from "../support/binary.ts";
import { openclawContainerParts } from "../support/openclaw-image.ts";
import { upstreamProject } from "../support/upstream-compose.ts";

const VERSION = "2026.9.6";
const IMAGE = `oauth-sync-test/openclaw-real:${VERSION}`;
const HOUR = 3_600_000;
let base: string;
let project: string;
const dockerEnv = () => ({ PATH: process.env.PATH!, HOME: process.env.HOME!, ...DOCKER_BED_ENV });
const compose = (...args: string[]) => Bun.spawnSync(["docker", "compose", ...args], { cwd: project, env: dockerEnv(), stdout: "pipe", stderr: "pipe" });
// State is made before the gateway starts: 2026.9.6 refuses `onboard`'s schema changes while a gateway owns the state.
const cli = (...args: string[]) => compose("run", "--rm", "-T", "--no-deps", "openclaw-gateway", "node", "dist/index.js", ...args);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  await ensureDockerBed();
  const parts = await openclawContainerParts(VERSION);
  Bun.spawnSync(["docker", "tag", parts.image, IMAGE], { env: process.env });
  base = await mkdtemp(join(tmpdir(), "oauth-sync-compose-openclaw-"));
  project = join(base, "openclaw");
  const state = join(base, "openclaw-state");
  await mkdir(join(state, "workspace"), { recursive: true });
  await upstreamProject(project, "nested", { configDir: state, workspaceDir: join(state, "workspace"), image: IMAGE });
  const port = await freePort();
  // What this machine needs on top of upstream's files (a common shape for an override file).
  await writeFile(
    join(project, "docker-compose.override.yml"),
    `services:\n  openclaw-gateway:\n    network_mode: host\n    ports: !reset []\n    stop_grace_period: 2s\n    volumes:\n${parts.volumes.map((v) => `      - ${v}\n`).join("")}` +
      `    command: ["node", "dist/index.js", "gateway", "--bind", "loopback", "--port", "${port}", "--allow-unconfigured"]\n`,
  );
  await writeFile(join(project, ".env"), `${await Bun.file(join(project, ".env")).text()}COMPOSE_PROJECT_NAME=oauth-sync-oc-${process.pid}\n`);
  const onboard = cli("onboard", "--non-interactive", "--accept-risk", "--auth-choice", "token", "--token-provider", "anthropic", "--token", fakeToken(), "--token-expires-in", "8h", "--skip-daemon", "--skip-health", "--skip-channels", "--skip-skills", "--skip-search", "--skip-ui", "--skip-hooks");
  if (onboard.exitCode !== 0) throw new Error(`onboard: ${onboard.stderr.toString().slice(-800)}`);
  const add = cli("agents", "add", "work", "--non-interactive", "--workspace", "/home/node/.openclaw/workspace-work", "--model", "anthropic/claude-sonnet-4-5");
  if (add.exitCode !== 0) throw new Error(`agents add: ${add.stderr.toString().slice(-800)}`);
  const up = compose("up", "-d", "openclaw-gateway");
  if (up.exitCode !== 0) throw new Error(up.stderr.toString());
}, 900_000);

afterAll(async () => {
  if (project) compose("down", "-t", "1");
  if (base) await rm(base, { recursive: true, force: true });
}, 120_000);

describe("upstream compose layout with a real 2026.9.6 gateway container", () => {
  test("install proposes a paste per agent through every compose file; a real sync lands in each agent's store", async () => {
    const credentials = join(base, "credentials.json");
    const token = fakeToken();
    await writeFile(credentials, credentialsJson(token, Date.now() + 8 * HOUR), { mode: 0o600 });
    const dry = await runBinary(["install", "--dry-run", "--yes", "--trigger", "none", "--credentials", credentials, "--project-dir", project], dockerEnv());
    expect(dry.code, dry.output).toBe(0);
    expect(dry.output).not.toContain(token);
    const at = dry.stdout.indexOf("config to install:\n");
    const config = JSON.parse(dry.stdout.slice(at + "config to install:\n".length, dry.stdout.indexOf("\n}\n", at) + 2));
    const files = [join(project, "docker-compose.yml"), join(project, "docker-compose.override.yml")];
    const command = ["docker", "compose", "-f", files[0], "-f", files[1], "exec", "-T", "openclaw-gateway", "node", "dist/index.js"];
    expect(config.targets).toEqual([
      { kind: "openclaw-cli", command, agent: "main" },
      { kind: "openclaw-cli", command, agent: "work" },
    ]);
    expect(config.gateway).toEqual({ kind: "compose", projectDir: project, files, service: "openclaw-gateway" });
    expect(dry.stdout).toContain("docker compose config");
    expect(dry.stdout).toContain("running containers");

    // README's quick start gives no flag: the running project is found through its containers' labels and wins on evidence.
    const plain = await runBinary(["install", "--dry-run", "--yes", "--trigger", "none", "--credentials", credentials], dockerEnv());
    expect(plain.code, plain.output).toBe(0);
    expect(plain.stdout).toContain(`→ compose: ${files[0]} + ${files[1]}`);

    const path = join(base, "config.json");
    await writeFile(path, JSON.stringify({ ...config, stateDir: join(base, "sync-state") }));
    const sync = await runBinary(["sync", "--config", path], dockerEnv());
    expect(sync.code, sync.output).toBe(0);
    expect(sync.output).not.toContain(token);
    for (const agent of ["main", "work"]) {
      const status = cli("models", "status", "--json", "--agent", agent);
      expect(status.exitCode, status.stderr.toString()).toBe(0);
      const anthropic = parseJsonOutput(status.stdout.toString()).auth.providers.find((p: { provider: string }) => p.provider === "anthropic");
      expect({ agent, labels: JSON.stringify(anthropic.profiles.labels) }).toEqual({ agent, labels: expect.stringContaining(token.slice(-8)) });
    }
  }, 300_000);
});
