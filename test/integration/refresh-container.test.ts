/**
 * Container mode on a real Docker engine: the real Claude CLI binary (glibc) mounted into the busybox image with the
 * host's /lib, /lib64 and /usr/lib read-only. The engine has no bridge network, and `--network none` would not reach
 * the fake OAuth proxy on the host's 127.0.0.1: the container shares the host's network (`--network host`), which
 * is also how it reaches the proxy in the seed's LiteLLM setups.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { BUSYBOX_IMAGE, docker, dockerAvailable } from "../bed/docker.ts";
import { ensureClaudeCli, readClaudeCredentials, startFakeOAuth, type FakeOAuth } from "../bed/claude.ts";
import { run } from "../support/binary.ts";
import { refreshCase, type RefreshCase } from "../support/refresh-bed.ts";

const haveDocker = await dockerAvailable();
let binary: string;
let fake: FakeOAuth;
let c: RefreshCase | undefined;
let container: string | undefined;

beforeAll(async () => {
  if (!haveDocker) return;
  binary = await ensureClaudeCli();
  fake = await startFakeOAuth();
});
afterAll(async () => {
  await fake?.close();
});
afterEach(async () => {
  if (container) await docker(["rm", "-f", container]);
  await c?.remove();
  c = container = undefined;
});

/** A long-running container with the CLI, its config dir (the host's, bind-mounted) and a LiteLLM-style base URL. */
async function startCliContainer(rc: RefreshCase): Promise<string> {
  const name = `oauth-sync-refresh-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const r = await docker([
    "run", "-d", "--name", name, "--network", "host",
    "-e", "CLAUDE_CONFIG_DIR=/claude", "-e", "HOME=/home",
    "-e", `HTTPS_PROXY=${fake.proxyUrl}`, "-e", "NO_PROXY=127.0.0.1,localhost", "-e", "NODE_EXTRA_CA_CERTS=/ca.crt",
    "-e", "DISABLE_TELEMETRY=1", "-e", "DISABLE_ERROR_REPORTING=1",
    // The seed's case: the container points the CLI at a proxy that cannot refresh (here: nothing listens).
    "-e", "ANTHROPIC_BASE_URL=http://127.0.0.1:9",
    "-v", `${binary}:/usr/local/bin/claude:ro`, "-v", "/lib:/lib:ro", "-v", "/lib64:/lib64:ro", "-v", "/usr/lib:/usr/lib:ro",
    "-v", `${rc.configDir}:/claude`, "-v", `${rc.home}:/home`, "-v", `${fake.caFile}:/ca.crt:ro`, "--tmpfs", "/tmp",
    BUSYBOX_IMAGE, "sleep", "3600",
  ]);
  if (r.code !== 0) throw new Error(`docker run failed: ${r.stderr}`);
  return name;
}

describe.skipIf(!haveDocker)("container mode: docker exec CONTAINER claude … on a real engine", () => {
  test("auth-status inside the container refreshes; exit 5; the new token reaches the targets; no model call", async () => {
    c = await refreshCase(fake, "oauth-sync-refresh-ctr-");
    await c.login(Date.now() + 3 * 60_000);
    container = await startCliContainer(c);
    await c.writeConfig({ trigger: { mode: "container", container, claude: "/usr/local/bin/claude" } });
    const models = fake.requests.filter((r) => r.path.startsWith("/v1/messages")).length;
    const r = await run(["check", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(5);
    expect(r.output).toContain(`docker exec ${container}`);
    const fresh = (await readClaudeCredentials(c.configDir))!.accessToken;
    expect(fresh).toBe(fake.issued.at(-1)!);
    for (const path of c.targets()) expect(await readFile(path, "utf8")).toContain(fresh);
    expect(fake.requests.filter((r) => r.path.startsWith("/v1/messages")).length).toBe(models);
  }, 120_000);

  test("prompt with baseUrlOverride: the exec's ANTHROPIC_BASE_URL beats the container's proxy setting", async () => {
    c = await refreshCase(fake, "oauth-sync-refresh-ctr-");
    await c.login(Date.now() + 3 * 60_000);
    container = await startCliContainer(c);
    await c.writeConfig({ trigger: { mode: "container", container, claude: "/usr/local/bin/claude", command: "prompt", baseUrlOverride: true } });
    const before = fake.requests.length;
    const r = await run(["check", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(5);
    // The model call went to api.anthropic.com (the fake, through the proxy), not to the container's 127.0.0.1:9.
    const messages = fake.requests.slice(before).filter((x) => x.path.startsWith("/v1/messages"));
    expect(messages.length).toBeGreaterThanOrEqual(1);
    expect(messages.every((x) => x.host === "api.anthropic.com")).toBe(true);
  }, 120_000);

  test("a container that does not exist: exit 2 (misconfigured), nothing sent", async () => {
    c = await refreshCase(fake, "oauth-sync-refresh-ctr-");
    await c.login(Date.now() + 3 * 60_000);
    await c.writeConfig({ trigger: { mode: "container", container: "oauth-sync-no-such-container" } });
    const tokens = fake.tokenRequests().length;
    const r = await run(["check", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(2);
    expect(r.output).toContain("No such container");
    expect(fake.tokenRequests().length).toBe(tokens);
  }, 60_000);
});
