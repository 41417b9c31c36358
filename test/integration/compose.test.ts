import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken, type Sandbox } from "../../src/demo/sandbox.ts";
import { ensureDockerBed, startDockerd, stopDockerd } from "../bed/docker.ts";
import { run, start, type Running } from "../support/binary.ts";
import { createComposeProject, type ComposeProject } from "../support/compose-project.ts";

const HOUR = 3_600_000;
let sandbox: Sandbox | undefined;
let project: ComposeProject | undefined;
let watcher: Running | undefined;

beforeAll(async () => {
  await ensureDockerBed();
}, 900_000);

afterEach(async () => {
  await watcher?.stop();
  await startDockerd(); // a test may have stopped it
  await project?.remove();
  if (sandbox) await removeSandbox(sandbox);
  watcher = sandbox = project = undefined;
});

/** oauth-sync configured like a compose deployment: the project's .env as target, the compose gateway. */
async function setup(gateway: Record<string, unknown> = {}, compose: Parameters<typeof createComposeProject>[0] = {}) {
  project = await createComposeProject(compose);
  await project.up();
  sandbox = await createSandbox("oauth-sync-compose-");
  const config = {
    credentials: sandbox.credentials,
    stateDir: join(sandbox.root, "state"),
    targets: [{ kind: "env-file", path: project.envFile }],
    gateway: { kind: "compose", projectDir: project.dir, settleSeconds: 0.5, timeoutSeconds: 60, ...gateway },
  };
  await writeFile(sandbox.configPath, JSON.stringify(config));
  return { project, sandbox };
}

describe("compose gateway on a real Docker engine", () => {
  test("recreate: the new container carries the new token, the old one is gone, the sidecar is untouched", async () => {
    const { project: p, sandbox: s } = await setup();
    const oldGateway = await p.containerId("openclaw-gateway");
    const sidecar = await p.containerId("sidecar");
    const sidecarStarted = await p.startedAt(sidecar);
    expect(await p.envInside("openclaw-gateway", "ANTHROPIC_OAUTH_TOKEN")).toBe("placeholder");

    const token = fakeToken();
    await rotate(s, token, Date.now() + 8 * HOUR);
    // A stale token in the service's own environment must not reach compose (it would beat .env).
    watcher = start(["watch", "--config", s.configPath], { ANTHROPIC_OAUTH_TOKEN: fakeToken() });
    await watcher.waitFor("gateway: recreate", 90_000);

    expect(await p.envInside("openclaw-gateway", "ANTHROPIC_OAUTH_TOKEN")).toBe(token);
    const newGateway = await p.containerId("openclaw-gateway");
    expect(newGateway).not.toBe(oldGateway);
    expect(await p.exists(oldGateway)).toBe(false);
    expect(watcher.output()).toContain(`${oldGateway.slice(0, 12)} → ${newGateway.slice(0, 12)}`);
    expect(await p.containerId("sidecar")).toBe(sidecar);
    expect(await p.startedAt(sidecar)).toBe(sidecarStarted);
    expect(watcher.output()).not.toContain(token);
  }, 180_000);

  test("down-up: the whole project is recreated, sidecar included", async () => {
    const { project: p, sandbox: s } = await setup({ strategy: "down-up" });
    const sidecar = await p.containerId("sidecar");
    const token = fakeToken();
    await rotate(s, token, Date.now() + 8 * HOUR);
    const result = await run(["sync", "--config", s.configPath]);
    expect(result.code).toBe(0);
    expect(result.output).toContain("gateway: down-up openclaw-gateway");
    expect(await p.envInside("openclaw-gateway", "ANTHROPIC_OAUTH_TOKEN")).toBe(token);
    expect(await p.containerId("sidecar")).not.toBe(sidecar);
  }, 180_000);

  test("no reload when the token did not change; one reload for a burst of rotations", async () => {
    const { project: p, sandbox: s } = await setup({ settleSeconds: 1.5 });
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    watcher = start(["watch", "--config", s.configPath]);
    await watcher.waitFor("gateway: recreate", 90_000);
    const afterFirst = await p.containerId("openclaw-gateway");

    // The CLI rewrote the file without a new token: nothing to do.
    const same = JSON.parse(await readFile(s.credentials, "utf8"));
    await writeFile(`${s.credentials}.tmp`, JSON.stringify({ ...same, mcpOAuth: {} }));
    await rename(`${s.credentials}.tmp`, s.credentials);
    await Bun.sleep(3000);
    expect(await p.containerId("openclaw-gateway")).toBe(afterFirst);

    let last = "";
    for (let i = 0; i < 5; i++) {
      last = fakeToken();
      await rotate(s, last, Date.now() + 9 * HOUR + i);
      await Bun.sleep(50);
    }
    await waitForToken([p.envFile], last);
    await watcher.waitFor(/gateway: recreate[^\n]*\n[\s\S]*gateway: recreate/, 90_000);
    await Bun.sleep(4000);
    expect(watcher.output().match(/gateway: recreate/g)).toHaveLength(2);
    expect(await p.envInside("openclaw-gateway", "ANTHROPIC_OAUTH_TOKEN")).toBe(last);
  }, 180_000);

  test("daemon stopped mid-way: a clear error, retries, and the reload lands once it is back", async () => {
    const { project: p, sandbox: s } = await setup();
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    watcher = start(["watch", "--config", s.configPath]);
    await watcher.waitFor("gateway: recreate", 90_000);

    await stopDockerd();
    const token = fakeToken();
    await rotate(s, token, Date.now() + 9 * HOUR);
    await watcher.waitFor("the Docker daemon is not running", 30_000);
    await watcher.waitFor("attempt 2", 30_000);
    const state = JSON.parse(await readFile(join(s.root, "state/state.json"), "utf8"));
    expect(state.gateway.pending).toBe(true);

    await startDockerd();
    await watcher.waitFor(/attempt \d+[\s\S]*gateway: recreate/, 180_000);
    expect(await p.envInside("openclaw-gateway", "ANTHROPIC_OAUTH_TOKEN")).toBe(token);
  }, 300_000);

  test("a container that turns unhealthy after the recreate fails the reload with its last log lines", async () => {
    const { sandbox: s } = await setup({ timeoutSeconds: 30 }, { healthcheck: ["CMD", "sh", "-c", "echo probe failed >&2; grep -q never /proc/1/cmdline"] });
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    const result = await run(["sync", "--config", s.configPath]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/openclaw-gateway is unhealthy|after 30s/);
  }, 180_000);

  test("clear errors: unknown service, project without a compose file", async () => {
    const { sandbox: s, project: p } = await setup({ service: "no-such-gateway" });
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    const unknown = await run(["sync", "--config", s.configPath]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('has no service "no-such-gateway"');

    const config = JSON.parse(await readFile(s.configPath, "utf8"));
    config.gateway = { kind: "compose", projectDir: s.root };
    await writeFile(s.configPath, JSON.stringify(config));
    const reload = await run(["reload", "--config", s.configPath]);
    expect(reload.code).toBe(4);
    expect(reload.stderr).toContain(`no compose file in ${s.root}`);
    expect(p).toBeDefined();
  }, 180_000);
});
