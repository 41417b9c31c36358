import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detect } from "../../src/install/detect.ts";
import { proposeConfig } from "../../src/install/propose.ts";
import { runProcess } from "../../src/process/run.ts";
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

describe("detection on a real compose project", () => {
  test("a running OpenClaw project is found through its containers' labels, with its release and state dir", async () => {
    const d = await detect("/", {}, { run: runProcess, now: Date.now(), cwd: "/" });
    const found = d.installs.find((i) => i.value.projectDir === dir);
    expect(found?.value).toMatchObject({ kind: "compose", service: "openclaw-gateway", release: "2026.9.6", stateDir: join(dir, "openclaw-config"), agents: ["main"] });
    const { config } = proposeConfig(found!.value, { path: "/root/.claude/.credentials.json", uid: 0, home: "/root" }, { claudeOnHost: false });
    expect(config.targets).toContainEqual({ kind: "openclaw-cli", command: ["docker", "compose", "-f", join(dir, "docker-compose.yml"), "exec", "-T", "openclaw-gateway", "openclaw"] });
    expect(config.gateway).toMatchObject({ kind: "compose", projectDir: dir });
  }, 60_000);
});
