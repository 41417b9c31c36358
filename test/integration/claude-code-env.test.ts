/**
 * Claude Code as a consumer (in a container or dev container): it takes CLAUDE_CODE_OAUTH_TOKEN from its environment
 * when it starts. The compiled binary keeps an env file current; every new `claude` started from that file (as a
 * dev container's shell or `docker exec --env-file` start it) calls the API with the token of the moment. Checked with
 * the real CLI against the fake Anthropic service (test/bed/claude.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialsJson } from "../../src/demo/sandbox.ts";
import { claudeEnv, ensureClaudeCli, fakeAccessToken, runClaude, startFakeOAuth, type FakeOAuth } from "../bed/claude.ts";
import { run } from "../support/binary.ts";

const HOUR = 3_600_000;
let claude: string;
let fake: FakeOAuth;
let dir: string;

beforeAll(async () => {
  claude = await ensureClaudeCli();
  fake = await startFakeOAuth();
  dir = await mkdtemp(join(tmpdir(), "oauth-sync-claude-env-"));
});
afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Claude Code fed through an env-file target", () => {
  test("each new claude started from the file oauth-sync keeps bears the current token; the CLI inside has no login of its own to refresh", async () => {
    const login = join(dir, "host-login/.credentials.json");
    await mkdir(join(dir, "host-login"), { mode: 0o700 });
    const envFile = join(dir, "claude.env");
    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ credentials: login, stateDir: join(dir, "state"), targets: [{ kind: "env-file", path: envFile, variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: false }] }), { mode: 0o600 });
    const home = join(dir, "container-home");
    await mkdir(home);
    const bearers: string[] = [];
    for (const token of [fakeAccessToken(), fakeAccessToken()]) {
      await writeFile(login, credentialsJson(token, Date.now() + 8 * HOUR), { mode: 0o600 });
      const sync = await run(["sync", "--config", config]);
      expect(sync.code, sync.output).toBe(0);
      expect(await readFile(envFile, "utf8")).toBe(`CLAUDE_CODE_OAUTH_TOKEN=${token}\n`);
      // A new shell in the container reads the file and starts claude (a dev container's terminal, `docker exec`).
      const env = claudeEnv({ proxyUrl: fake.proxyUrl, caFile: fake.caFile, configDir: join(home, ".claude"), home });
      const before = fake.requests.length;
      const result = await runClaude("/bin/sh", ["-c", `set -a; . ${envFile}; set +a; exec ${claude} -p "say ok"`], env);
      expect(result.code, result.stderr).toBe(0);
      const messages = fake.requests.slice(before).filter((r) => r.path.startsWith("/v1/messages"));
      expect(messages.length).toBeGreaterThan(0);
      bearers.push(...new Set(messages.map((r) => r.headers.authorization ?? "")));
      expect(messages.every((r) => r.headers.authorization === `Bearer ${token}`)).toBe(true);
      expect(fake.tokenRequests()).toHaveLength(0); // no refresh from inside: the host's CLI stays the one refresher
    }
    expect(new Set(bearers).size).toBe(2);
  }, 180_000);
});
