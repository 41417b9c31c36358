import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detect } from "../../src/detect/detect.ts";
import { proposeConfig } from "../../src/install/propose.ts";
import { runProcess } from "../../src/process/run.ts";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { BUSYBOX_IMAGE, ensureDockerBed } from "../bed/docker.ts";

const IMAGE = "oauth-sync-test/openclaw:2026.9.6";
let dir: string;

beforeAll(async () => {
  await ensureDockerBed();
  await Bun.$`docker tag ${BUSYBOX_IMAGE} ${IMAGE}`.quiet();
  // Outside every place detection looks by default: only the running container's compose labels lead there.
  dir = await mkdtemp(join(tmpdir(), "oauth-sync-detect-compose-"));
  await mkdir(join(dir, "openclaw-config/agents/main/agent"), { recursive: true });
  await writeFile(join(dir, ".env"), "OPENCLAW_CONFIG_DIR=./openclaw-config\n");
  await writeFile(
    join(dir, "docker-compose.yml"),
    `name: oauth-sync-detect-${Date.now()}
services:
  openclaw-gateway:
    image: ${IMAGE}
    network_mode: none
    init: true
    stop_grace_period: 1s
    command: ["sleep", "3600"]
    volumes:
      - \${OPENCLAW_CONFIG_DIR}:/home/node/.openclaw
`,
  );
  const up = await Bun.$`docker compose up -d`.cwd(dir).quiet().nothrow();
  if (up.exitCode !== 0) throw new Error(up.stderr.toString());
}, 900_000);

afterAll(async () => {
  await Bun.$`docker compose down -t 1`.cwd(dir).quiet().nothrow();
  await rm(dir, { recursive: true, force: true });
});

describe("Claude Code inside a running container", () => {
  test("found with its login mapped to the host through the mount, and its proxy base URL; the trigger proposed for it", async () => {
    const claudeDir = join(dir, "claude-home");
    await mkdir(claudeDir, { recursive: true });
    await writeFile(join(claudeDir, ".credentials.json"), credentialsJson(fakeToken(), Date.now() + 8 * 3_600_000), { mode: 0o600 });
    await writeFile(join(dir, "claude"), "#!/bin/sh\necho 2.1.330\n", { mode: 0o755 });
    const name = `oauth-sync-detect-claude-${Date.now()}`;
    const started = await Bun.$`docker run -d --name ${name} --network none -e ANTHROPIC_BASE_URL=http://litellm:4000 -v ${claudeDir}:/root/.claude -v ${join(dir, "claude")}:/bin/claude:ro ${BUSYBOX_IMAGE} sleep 3600`.quiet().nothrow();
    expect(started.exitCode, started.stderr.toString()).toBe(0);
    try {
      const d = await detect("/", {}, { run: runProcess, now: Date.now(), cwd: "/" });
      const found = d.containers.find((c) => c.value.container === name);
      expect(found?.value).toMatchObject({ hostCredentials: join(claudeDir, ".credentials.json"), proxyBaseUrl: "http://litellm:4000" });
      const login = d.logins.find((l) => l.value.path === join(claudeDir, ".credentials.json"));
      expect(login?.value.fingerprint).toMatch(/^[0-9a-f]{12}$/);
      const install = { kind: "native" as const, stateDir: "/root/.openclaw", agents: ["main"], sqlite: false, legacyJson: [] };
      const { config, notes } = proposeConfig(install, login!.value, { claudeOnHost: false, containers: [found!.value] });
      expect(config.trigger).toEqual({ mode: "container", container: name, baseUrlOverride: true });
      expect(notes.join("\n")).toContain("http://litellm:4000");
    } finally {
      await Bun.$`docker rm -f ${name}`.quiet().nothrow();
    }
  }, 60_000);
});

describe("detection on a real compose project", () => {
  test("an image without a version in its tag: the release comes from its version label", async () => {
    const labelled = "oauth-sync-test/openclaw-labelled:latest";
    const build = Bun.spawnSync(["sh", "-c", `printf 'FROM ${BUSYBOX_IMAGE}\\nLABEL org.opencontainers.image.version=2026.5.28\\n' | docker build -q -t ${labelled} -`], { env: process.env, stderr: "pipe" });
    expect(build.exitCode, build.stderr.toString()).toBe(0);
    const other = await mkdtemp(join(tmpdir(), "oauth-sync-detect-label-"));
    try {
      await mkdir(join(other, "cfg"), { recursive: true });
      await writeFile(join(other, "docker-compose.yml"), `services:\n  openclaw-gateway:\n    image: ${labelled}\n    volumes:\n      - ./cfg:/home/node/.openclaw\n`);
      const d = await detect("/", { projectDir: other }, { run: runProcess, now: Date.now(), cwd: "/" });
      expect(d.install?.value.release).toBe("2026.5.28");
      expect(d.install?.source).toContain("image label");
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  }, 120_000);

  test("an image with neither a version tag nor a label: the release comes from the package.json inside it", async () => {
    const image = "oauth-sync-test/openclaw-pkg:latest";
    const context = await mkdtemp(join(tmpdir(), "oauth-sync-detect-pkg-"));
    const project = await mkdtemp(join(tmpdir(), "oauth-sync-detect-pkgproj-"));
    try {
      await writeFile(join(context, "package.json"), JSON.stringify({ name: "openclaw", version: "2026.6.3", dependencies: { zod: "4.0.0" } }, null, 2));
      await writeFile(join(context, "Dockerfile"), `FROM ${BUSYBOX_IMAGE}\nWORKDIR /app\nCOPY package.json /app/package.json\n`);
      const build = Bun.spawnSync(["docker", "build", "-q", "-t", image, context], { env: process.env, stderr: "pipe" });
      expect(build.exitCode, build.stderr.toString()).toBe(0);
      await mkdir(join(project, "cfg"), { recursive: true });
      await writeFile(join(project, "docker-compose.yml"), `services:\n  openclaw-gateway:\n    image: ${image}\n    volumes:\n      - ./cfg:/home/node/.openclaw\n`);
      const made = async () => (await Bun.$`docker ps -aq --filter ancestor=${image}`.quiet()).stdout.toString();
      expect(await made()).toBe("");
      const d = await detect("/", { projectDir: project }, { run: runProcess, now: Date.now(), cwd: "/" });
      expect(d.install?.value.release).toBe("2026.6.3");
      expect(d.install?.source).toContain("/app/package.json in the image");
      // The image was read, never run, and the container made to read it is gone.
      expect(await made()).toBe("");
    } finally {
      await rm(context, { recursive: true, force: true });
      await rm(project, { recursive: true, force: true });
    }
  }, 120_000);

  test("a project whose state is a named volume: found on the host through the engine", async () => {
    const project = await mkdtemp(join(tmpdir(), "oauth-sync-detect-volume-"));
    const name = `oauth-sync-volume-${Date.now()}`;
    try {
      await writeFile(
        join(project, "docker-compose.yml"),
        `name: ${name}\nservices:\n  openclaw-gateway:\n    image: ${IMAGE}\n    network_mode: none\n    init: true\n    stop_grace_period: 1s\n    command: ["sleep", "3600"]\n    volumes:\n      - state:/home/node/.openclaw\nvolumes:\n  state: {}\n`,
      );
      const up = await Bun.$`docker compose up -d`.cwd(project).quiet().nothrow();
      expect(up.exitCode, up.stderr.toString()).toBe(0);
      const agents = await Bun.$`docker compose exec -T openclaw-gateway mkdir -p /home/node/.openclaw/agents/main/agent /home/node/.openclaw/agents/ops/agent`.cwd(project).quiet().nothrow();
      expect(agents.exitCode, agents.stderr.toString()).toBe(0);
      const mountpoint = (await Bun.$`docker volume inspect --format {{.Mountpoint}} ${name}_state`.quiet()).stdout.toString().trim();
      const d = await detect("/", { projectDir: project }, { run: runProcess, now: Date.now(), cwd: "/" });
      expect(d.install?.value).toMatchObject({ kind: "compose", stateDir: mountpoint, agents: ["main", "ops"], release: "2026.9.6" });
      expect(d.install?.source).toContain(`volume ${name}_state`);
    } finally {
      await Bun.$`docker compose down -v -t 1`.cwd(project).quiet().nothrow();
      await rm(project, { recursive: true, force: true });
    }
  }, 120_000);

  test("a running OpenClaw project is found through its containers' labels, with its release and state dir", async () => {
    const d = await detect("/", {}, { run: runProcess, now: Date.now(), cwd: "/" });
    const found = d.installs.find((i) => i.value.projectDir === dir);
    expect(found?.value).toMatchObject({ kind: "compose", service: "openclaw-gateway", release: "2026.9.6", stateDir: join(dir, "openclaw-config"), agents: ["main"] });
    const { config } = proposeConfig(found!.value, { path: "/root/.claude/.credentials.json", uid: 0, home: "/root" }, { claudeOnHost: false });
    expect(config.targets).toContainEqual({ kind: "openclaw-cli", command: ["docker", "compose", "-f", join(dir, "docker-compose.yml"), "exec", "-T", "openclaw-gateway", "openclaw"] });
    expect(config.gateway).toMatchObject({ kind: "compose", projectDir: dir });
  }, 60_000);
});
