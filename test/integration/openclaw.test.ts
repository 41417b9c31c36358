/**
 * The real OpenClaw from npm reads what oauth-sync writes: for the JSON era (2026.5.28) and the SQLite era
 * (2026.9.6), every target kind the release supports, checked with `openclaw models status --json`.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { ensureOpenClaw, modelsStatus, openclawEnv, prepareHome, runOpenClaw } from "../bed/openclaw.ts";
import { run } from "../support/binary.ts";
import { tempDirs } from "../support/temp.ts";

const temp = tempDirs();

const JSON_ERA = "2026.5.28";
const SQLITE_ERA = "2026.9.6";
const HOUR = 3_600_000;

beforeAll(async () => {
  await ensureOpenClaw(JSON_ERA);
  await ensureOpenClaw(SQLITE_ERA);
}, 900_000);

interface Case {
  home: string;
  openclaw: string;
  credentials: string;
  configPath: string;
}

/** An isolated HOME for OpenClaw, Claude credentials beside it, and an oauth-sync config with the given targets. */
async function makeCase(version: string, targets: (c: Case) => unknown[]): Promise<Case> {
  const root = temp("oauth-sync-openclaw-");
  const home = join(root, "home");
  await mkdir(home, { recursive: true });
  await prepareHome(version, home);
  const c: Case = { home, openclaw: join(home, ".openclaw"), credentials: join(root, "claude/.credentials.json"), configPath: join(root, "config.json") };
  await mkdir(join(root, "claude"), { recursive: true, mode: 0o700 });
  await writeFile(c.configPath, JSON.stringify({ credentials: c.credentials, stateDir: join(root, "state"), targets: targets(c) }));
  return c;
}

async function login(c: Case, expiresAt = Date.now() + 8 * HOUR) {
  const token = fakeToken();
  await writeFile(c.credentials, credentialsJson(token, expiresAt), { mode: 0o600 });
  return { token, expiresAt };
}

async function sync(c: Case) {
  return run(["sync", "--config", c.configPath, "--verbose"]);
}

/** What OpenClaw itself says about its Anthropic credentials. */
async function anthropicAuth(version: string, c: Case) {
  const status = await modelsStatus(version, c.home);
  const provider = status.auth.providers.find((p: { provider: string }) => p.provider === "anthropic");
  const profile = status.auth.oauth.profiles.find((p: { profileId: string }) => p.profileId === "anthropic:default");
  return { effective: provider?.effective, labels: (provider?.profiles?.labels ?? []) as string[], env: provider?.env, profile };
}

const suffix = (token: string) => token.slice(-8);
const profilesPath = (c: Case) => join(c.openclaw, "agents/main/agent/auth-profiles.json");

async function openclawCliTarget(version: string, c: Case) {
  const { bin } = await ensureOpenClaw(version);
  return { kind: "openclaw-cli", command: [bin], env: { ...(await openclawEnv(version)), HOME: c.home } };
}

describe(`OpenClaw ${JSON_ERA} (JSON era)`, () => {
  for (const [credentialType, expected] of [
    ["token", { type: "token", status: "expiring", label: "token:" }],
    ["oauth", { type: "oauth", status: "expiring", label: "" }],
    ["api_key", { type: "api_key", status: "static", label: "" }],
  ] as const) {
    test(`auth-profiles.json, credentialType ${credentialType}: OpenClaw reads it as ${expected.type}`, async () => {
      const c = await makeCase(JSON_ERA, (c) => [{ kind: "openclaw-auth-profiles", path: profilesPath(c), credentialType }]);
      const { token, expiresAt } = await login(c);
      expect((await sync(c)).code).toBe(0);
      const auth = await anthropicAuth(JSON_ERA, c);
      expect(auth.effective.kind).toBe("profiles");
      expect(auth.profile).toMatchObject({ type: expected.type, status: expected.status });
      if (credentialType !== "api_key") expect(auth.profile.expiresAt).toBe(expiresAt);
      if (expected.label) expect(auth.labels.join(" ")).toContain(suffix(token));
    }, 120_000);
  }

  test("env-file: ~/.openclaw/.env is read as the env token", async () => {
    const c = await makeCase(JSON_ERA, (c) => [{ kind: "env-file", path: join(c.openclaw, ".env") }]);
    await login(c);
    expect((await sync(c)).code).toBe(0);
    const auth = await anthropicAuth(JSON_ERA, c);
    expect(auth.effective.kind).toBe("env");
    expect(JSON.stringify(auth)).toContain("ANTHROPIC_OAUTH_TOKEN");
  }, 120_000);

  test("openclaw-oauth-json on a fresh install is imported as an oauth profile with the same expiry", async () => {
    const c = await makeCase(JSON_ERA, (c) => [{ kind: "openclaw-oauth-json", path: join(c.openclaw, "credentials/oauth.json") }]);
    const { expiresAt } = await login(c);
    expect((await sync(c)).code).toBe(0);
    const auth = await anthropicAuth(JSON_ERA, c);
    expect(auth.profile).toMatchObject({ type: "oauth", expiresAt });
  }, 120_000);

  test("openclaw-cli (paste-token) works on the JSON era too", async () => {
    const c = await makeCase(JSON_ERA, () => []);
    await writeFile(c.configPath, JSON.stringify({ ...JSON.parse(await readFile(c.configPath, "utf8")), targets: [await openclawCliTarget(JSON_ERA, c)] }));
    const { token, expiresAt } = await login(c);
    const result = await sync(c);
    expect(result.code).toBe(0);
    expect(result.output).not.toContain(token);
    const auth = await anthropicAuth(JSON_ERA, c);
    expect(auth.profile.type).toBe("token");
    expect(auth.profile.expiresAt - expiresAt).toBeGreaterThanOrEqual(-1000);
    expect(auth.profile.expiresAt - expiresAt).toBeLessThan(30_000);
    expect(auth.labels.join(" ")).toContain(suffix(token));
  }, 120_000);

  test("an expired or blanked source never reaches OpenClaw: it keeps the last good token", async () => {
    const c = await makeCase(JSON_ERA, (c) => [{ kind: "openclaw-auth-profiles", path: profilesPath(c) }]);
    const good = await login(c);
    expect((await sync(c)).code).toBe(0);
    await login(c, Date.now() - 60_000);
    expect((await sync(c)).code).toBe(3);
    await writeFile(c.credentials, JSON.stringify({ claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0 } }));
    expect((await sync(c)).code).toBe(3);
    const auth = await anthropicAuth(JSON_ERA, c);
    expect(auth.profile).toMatchObject({ type: "token", status: "expiring", expiresAt: good.expiresAt });
    expect(auth.labels.join(" ")).toContain(suffix(good.token));
  }, 120_000);
});

describe(`OpenClaw ${SQLITE_ERA} (SQLite era)`, () => {
  test("openclaw-cli stores a token profile with the credentials' expiry; a rotation replaces it", async () => {
    const c = await makeCase(SQLITE_ERA, () => []);
    await writeFile(c.configPath, JSON.stringify({ ...JSON.parse(await readFile(c.configPath, "utf8")), targets: [await openclawCliTarget(SQLITE_ERA, c)] }));
    for (let round = 0; round < 2; round++) {
      const { token, expiresAt } = await login(c, Date.now() + (8 + round) * HOUR);
      const result = await sync(c);
      expect(result.code).toBe(0);
      expect(result.output).not.toContain(token);
      const auth = await anthropicAuth(SQLITE_ERA, c);
      expect(auth.effective.detail).toContain("openclaw.sqlite");
      expect(auth.profile).toMatchObject({ type: "token", status: "expiring" });
      // --expires-in is relative: OpenClaw counts from when it stores the profile, its start-up later (2–10 s measured).
      expect(auth.profile.expiresAt - expiresAt).toBeGreaterThanOrEqual(-1000);
      expect(auth.profile.expiresAt - expiresAt).toBeLessThan(30_000);
      expect(auth.labels.join(" ")).toContain(suffix(token));
    }
    // Unchanged credentials: no second paste-token run.
    expect((await sync(c)).output).toContain("already holds");
    // `status` asks OpenClaw itself through the same command.
    const status = JSON.parse((await run(["status", "--json", "--config", c.configPath])).stdout);
    expect(status.openclaw).toEqual([expect.objectContaining({ type: "token", status: "expiring" })]);
  }, 180_000);

  test("env-file: ~/.openclaw/.env is read, and OpenClaw starts", async () => {
    const c = await makeCase(SQLITE_ERA, (c) => [{ kind: "env-file", path: join(c.openclaw, ".env") }]);
    await login(c);
    expect((await sync(c)).code).toBe(0);
    const auth = await anthropicAuth(SQLITE_ERA, c);
    expect(auth.effective.kind).toBe("env");
  }, 120_000);

  test("JSON targets misconfigured on a SQLite-era install are refused, so OpenClaw still starts", async () => {
    const c = await makeCase(SQLITE_ERA, () => []);
    const cli = await openclawCliTarget(SQLITE_ERA, c);
    await writeFile(c.configPath, JSON.stringify({ ...JSON.parse(await readFile(c.configPath, "utf8")), targets: [cli] }));
    await login(c);
    expect((await sync(c)).code).toBe(0);
    const config = JSON.parse(await readFile(c.configPath, "utf8"));
    config.targets.push({ kind: "openclaw-auth-profiles", path: profilesPath(c) }, { kind: "openclaw-oauth-json", path: join(c.openclaw, "credentials/oauth.json") });
    await writeFile(c.configPath, JSON.stringify(config));
    const { token } = await login(c);
    const result = await sync(c);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("keeps its auth in SQLite");
    expect(result.stderr).toContain("openclaw-cli");
    const status = await runOpenClaw(SQLITE_ERA, c.home, ["models", "status", "--json"]);
    expect(status.code).toBe(0);
    expect((await anthropicAuth(SQLITE_ERA, c)).labels.join(" ")).toContain(suffix(token));
  }, 180_000);

  test("a legacy file left behind: the migration error is reported with its fix, never run silently", async () => {
    const c = await makeCase(SQLITE_ERA, () => []);
    await writeFile(c.configPath, JSON.stringify({ ...JSON.parse(await readFile(c.configPath, "utf8")), targets: [await openclawCliTarget(SQLITE_ERA, c)] }));
    await mkdir(join(c.openclaw, "agents/main/agent"), { recursive: true });
    await writeFile(profilesPath(c), JSON.stringify({ version: 1, profiles: {} }));
    await login(c);
    const result = await sync(c);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("doctor --fix");
    expect(await readFile(profilesPath(c), "utf8")).toBe(JSON.stringify({ version: 1, profiles: {} }));
  }, 180_000);
});

describe(`openclaw.json model settings read by OpenClaw ${JSON_ERA}`, () => {
  test("after the fixes OpenClaw's default model is the Anthropic one, with its alias in the allowlist", async () => {
    const { applyModelConfig } = await import("../../src/install/model-config.ts");
    const c = await makeCase(JSON_ERA, () => []);
    await mkdir(c.openclaw, { recursive: true });
    const file = join(c.openclaw, "openclaw.json");
    await writeFile(file, JSON.stringify({ agents: { defaults: { models: { "openai/gpt-5.5": { alias: "gpt" } } } }, models: { providers: { anthropic: { baseUrl: "https://api.anthropic.com/v1" } } } }));
    expect((await applyModelConfig(file, { primaryModel: "anthropic/claude-sonnet-4-5" })).changed).toBe(true);
    const status = await modelsStatus(JSON_ERA, c.home);
    expect(status.defaultModel).toBe("anthropic/claude-sonnet-4-5");
    expect(status.aliases).toMatchObject({ sonnet: "anthropic/claude-sonnet-4-5", gpt: "openai/gpt-5.5" });
  }, 120_000);
});
