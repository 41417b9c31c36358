/**
 * The refresh trigger, proven with the REAL Claude Code CLI (from npm, cached) against the fake OAuth server
 * through the HTTPS-proxy route (test/bed/claude.ts), driving the compiled binary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { waitForToken } from "../../src/demo/sandbox.ts";
import { ensureClaudeCli, readClaudeCredentials, runClaude, claudeEnv, startFakeOAuth, type FakeOAuth } from "../bed/claude.ts";
import { run, start, type Running } from "../support/binary.ts";
import { hostTrigger, refreshCase, startWebhook, type Hook, type RefreshCase } from "../support/refresh-bed.ts";
import { waitUntil } from "../support/wait.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
let binary: string;
let fake: FakeOAuth;
let c: RefreshCase | undefined;
let watcher: Running | undefined;
let hook: Hook | undefined;

beforeAll(async () => {
  binary = await ensureClaudeCli();
  fake = await startFakeOAuth();
});
afterAll(async () => {
  await fake?.close();
});
afterEach(async () => {
  await watcher?.stop();
  hook?.close();
  await c?.remove();
  watcher = hook = c = undefined;
  fake.setMode("ok");
  fake.setTokenDelay(0);
});

const tokenCalls = () => fake.tokenRequests().length;
const modelCalls = () => fake.requests.filter((r) => r.path.startsWith("/v1/messages")).length;
const state = async (dir: string) => JSON.parse(await readFile(join(dir, "state/state.json"), "utf8"));
const exists = (path: string) => stat(path).then(() => true, () => false);

/** No token, refresh token or webhook secret in anything a person or a log could see. */
function expectNoSecrets(text: string, secrets: string[]) {
  for (const secret of secrets) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/sk-ant-o[ar]t01-[A-Za-z0-9_-]{20,}/);
}

describe("oauth-sync check (real Claude CLI, host mode)", () => {
  test("outside the window: prints when the refresh is due, exits 0, sends no request at all", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: hostTrigger(binary, c.home) });
    const login = await c.login(Date.now() + 2 * HOUR);
    const requests = fake.requests.length;
    const connects = fake.connects.length;
    const r = await run(["check", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("next refresh due");
    expect(fake.requests.length).toBe(requests);
    expect(fake.connects.length).toBe(connects);
    expect((await readClaudeCredentials(c.configDir))!.accessToken).toBe(login.accessToken);
  }, 120_000);

  test("inside the window: the real CLI refreshes (auth status, no model call), exit 5, the new token reaches every target", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: hostTrigger(binary, c.home) });
    const old = await c.login(Date.now() + 3 * MIN);
    const [tokens, models] = [tokenCalls(), modelCalls()];
    const r = await run(["check", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(5);
    expect(tokenCalls()).toBeGreaterThan(tokens);
    expect(modelCalls()).toBe(models);
    const now = await readClaudeCredentials(c.configDir);
    expect(now!.accessToken).toBe(fake.issued.at(-1)!);
    expect(now!.expiresAt).toBeGreaterThan(Date.now() + 7 * HOUR);
    for (const path of c.targets()) expect(await readFile(path, "utf8")).toContain(now!.accessToken);
    expect((await state(c.sandbox.root)).refresh.lastResult).toBe("refreshed");
    expectNoSecrets(r.output, [old.accessToken, old.refreshToken, now!.accessToken, now!.refreshToken]);
  }, 120_000);

  test("no network: exit 6 (transient), the file and the targets are untouched", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: hostTrigger(binary, c.home), refresh: { confirmTries: 2 } });
    const old = await c.login(Date.now() + 3 * MIN);
    fake.setMode("drop");
    const r = await run(["check", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(6);
    expect(r.output).toContain("did not move the expiry");
    expect((await readClaudeCredentials(c.configDir))!.accessToken).toBe(old.accessToken);
    expect((await state(c.sandbox.root)).refresh.failures).toBe(1);
  }, 120_000);

  test("the CLI gets only HOME, CLAUDE_CONFIG_DIR, PATH and the proxy/CA variables, never a token on its command line", async () => {
    c = await refreshCase(fake);
    const dump = join(c.sandbox.root, "seen");
    const script = join(c.sandbox.root, "claude-spy");
    await writeFile(script, `#!/bin/sh\n{ echo "ARGS $*"; env; } > ${dump}\n`);
    await chmod(script, 0o755);
    await c.writeConfig({ trigger: { mode: "host", claude: script, home: c.home }, refresh: { confirmTries: 1 } });
    const login = await c.login(Date.now() + 3 * MIN);
    const r = await run(["check", "--config", c.sandbox.configPath], { ...c.env, HTTP_PROXY: "http://proxy.example:3128", SSL_CERT_FILE: "/etc/ssl/x.pem" });
    expect(r.code).toBe(6); // the spy refreshes nothing
    const seen = await readFile(dump, "utf8");
    expect(seen).toContain("ARGS auth status");
    const names = seen.split("\n").filter((l) => /^[A-Za-z_]+=/.test(l)).map((l) => l.split("=")[0]).filter((n) => n !== "PWD" && n !== "SHLVL" && n !== "_");
    expect(names.sort()).toEqual(
      ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "CLAUDE_CONFIG_DIR", "DISABLE_AUTOUPDATER", "HOME", "HTTPS_PROXY", "HTTP_PROXY", "NODE_EXTRA_CA_CERTS", "NO_PROXY", "PATH", "SSL_CERT_FILE"].sort(),
    );
    expect(seen).toContain(`CLAUDE_CONFIG_DIR=${c.configDir}`);
    expect(seen).toContain(`HOME=${c.home}`);
    expectNoSecrets(seen, [login.accessToken, login.refreshToken]);
  }, 120_000);
});

describe("oauth-sync watch schedules the refresh itself (real Claude CLI)", () => {
  test("triggers at expiry minus the window, not before; the new token reaches every target; no model call", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: hostTrigger(binary, c.home), refresh: { windowSeconds: 240 } });
    const expiresAt = Date.now() + 240_000 + 6_000;
    const old = await c.login(expiresAt);
    const [tokens, models] = [tokenCalls(), modelCalls()];
    watcher = start(["watch", "--config", c.sandbox.configPath], c.env);
    await waitForToken(c.targets(), old.accessToken, 10_000);
    await watcher.waitFor("refresh due");
    await waitUntil("a refresh", () => tokenCalls() > tokens, { timeoutMs: 60_000, detail: watcher.output });
    // Not before the window opened (expiry minus 240 s), and by the CLI's own hand.
    expect(fake.tokenRequests().at(-1)!.at).toBeGreaterThanOrEqual(expiresAt - 240_000);
    const fresh = fake.issued.at(-1)!;
    await waitForToken(c.targets(), fresh, 20_000);
    await watcher.waitFor("refreshed: token");
    expect(modelCalls()).toBe(models);
    expectNoSecrets(watcher.output(), [old.accessToken, old.refreshToken, fresh]);
  }, 120_000);

  test("invalid_grant: flag file, webhook notice, targets keep the last good token; a fresh login removes the flag and says so", async () => {
    c = await refreshCase(fake);
    hook = startWebhook();
    const flag = join(c.sandbox.root, "openclaw", "REAUTH_NEEDED");
    await c.writeConfig({ trigger: hostTrigger(binary, c.home), notify: { webhooks: [{ url: hook.url, format: "json" }, { url: hook.url, format: "mattermost" }] } });
    const good = await c.login(Date.now() + 3 * MIN);
    fake.setMode("invalid_grant");
    watcher = start(["watch", "--config", c.sandbox.configPath], c.env);
    await waitUntil("the flag file", () => exists(flag), { timeoutMs: 30_000, detail: watcher.output });
    await waitUntil("the notification", () => hook!.received.some((r) => r.json?.event === "reauth-needed"), { timeoutMs: 15_000, detail: watcher.output });
    await watcher.waitFor("re-authentication needed");
    expect(await readFile(flag, "utf8")).toContain("claude auth login");
    const blank = await readClaudeCredentials(c.configDir);
    expect(blank!.accessToken).toBe(""); // the CLI blanked it
    for (const path of c.targets()) expect(await readFile(path, "utf8")).toContain(good.accessToken);
    const mattermost = hook.received.find((r) => r.json?.text !== undefined)!;
    expect(mattermost.json.text).toContain("needs a new sign-in");
    // One notice per webhook, not one per tick or per pass.
    expect(hook.received.filter((r) => r.json?.event === "reauth-needed" || /needs a new sign-in/.test(r.json?.text ?? ""))).toHaveLength(2);
    expect((await state(c.sandbox.root)).reauth.needed).toBe(true);

    // A person runs `claude auth login`: a fresh login appears.
    fake.setMode("ok");
    const fresh = await c.login(Date.now() + 8 * HOUR);
    await waitForToken(c.targets(), fresh.accessToken, 10_000);
    await waitUntil("the flag to go", async () => !(await exists(flag)), { timeoutMs: 10_000, detail: watcher.output });
    await waitUntil("the recovery notice", () => hook!.received.some((r) => r.json?.event === "recovered"), { timeoutMs: 10_000, detail: watcher.output });
    expect((await state(c.sandbox.root)).reauth).toBeUndefined();
    const everything = watcher.output() + hook.received.map((r) => r.body + JSON.stringify(r.headers)).join("\n") + (await readFile(join(c.sandbox.root, "state/state.json"), "utf8"));
    expectNoSecrets(everything, [good.accessToken, good.refreshToken, fresh.accessToken, fresh.refreshToken]);
    expect(watcher.output()).not.toContain("SECRETxWEBHOOKxPATH123");
  }, 120_000);

  test("check on a blanked file: exit 7, flag written", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: hostTrigger(binary, c.home) });
    await c.login(Date.now() + 3 * MIN);
    fake.setMode("invalid_grant");
    const r = await run(["check", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(7);
    expect(await readFile(join(c.sandbox.root, "openclaw", "REAUTH_NEEDED"), "utf8")).toContain("claude auth login");
    // A second check spends nothing more: the login is dead.
    const tokens = tokenCalls();
    expect((await run(["check", "--config", c.sandbox.configPath], c.env)).code).toBe(7);
    expect(tokenCalls()).toBe(tokens);
  }, 120_000);
});

describe("oauth-sync notify --test", () => {
  test("every format reaches the receiver; the webhook URL never shows", async () => {
    c = await refreshCase(fake);
    hook = startWebhook();
    const formats = ["mattermost", "slack", "discord", "ntfy", "json"];
    await c.writeConfig({ notify: { webhooks: formats.map((format) => ({ url: hook!.url, format })) } });
    const r = await run(["notify", "--test", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(0);
    expect(hook.received).toHaveLength(5);
    expect(hook.received.map((x) => x.json?.text ?? x.json?.content ?? x.json?.message ?? x.body).every((t) => /reach this channel/.test(t))).toBe(true);
    expect(hook.received.find((x) => x.headers.title)!.headers.title).toContain("test message");
    expect(r.output).not.toContain("SECRETxWEBHOOKxPATH123");
  }, 120_000);

  test("a failing receiver: retried, reported by label, exit 1", async () => {
    c = await refreshCase(fake);
    hook = startWebhook();
    hook.status = 503;
    await c.writeConfig({ notify: { webhooks: [{ url: hook.url, format: "slack" }], retries: 1 } });
    const r = await run(["notify", "--test", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(1);
    expect(hook.received).toHaveLength(2);
    expect(r.output).toContain("HTTP 503");
    expect(r.output).not.toContain("SECRETxWEBHOOKxPATH123");
  }, 120_000);
});

describe("direct refresh (oauth-sync refresh) against the fake token endpoint", () => {
  test("refreshes through HTTPS_PROXY + NODE_EXTRA_CA_CERTS like the CLI; keeps every other key; 0600", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: { mode: "direct" } });
    const old = await c.login(Date.now() + 3 * MIN, { mcpOAuth: { "some-server": { accessToken: "mcp-value" } } });
    const r = await run(["refresh", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(5);
    const request = fake.tokenRequests().at(-1)!;
    expect(request.host).toBe("platform.claude.com");
    expect(request.json).toEqual({
      grant_type: "refresh_token",
      refresh_token: old.refreshToken,
      client_id: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
      scope: "user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload user:plugins",
    });
    const file = JSON.parse(await readFile(join(c.configDir, ".credentials.json"), "utf8"));
    expect(file.mcpOAuth).toEqual({ "some-server": { accessToken: "mcp-value" } });
    expect(file.claudeAiOauth.accessToken).toBe(fake.issued.at(-1)!);
    expect(file.claudeAiOauth.refreshToken).toBe(fake.issuedRefreshTokens.at(-1)!);
    expect(file.claudeAiOauth.subscriptionType).toBe("max");
    expect((await stat(join(c.configDir, ".credentials.json"))).mode & 0o777).toBe(0o600);
    for (const path of c.targets()) expect(await readFile(path, "utf8")).toContain(file.claudeAiOauth.accessToken);
    expectNoSecrets(r.output, [old.accessToken, old.refreshToken, file.claudeAiOauth.accessToken]);
    // The real CLI accepts what we wrote: it sees a valid login and refreshes nothing.
    const tokens = tokenCalls();
    const status = await runClaude(binary, ["auth", "status"], claudeEnv({ proxyUrl: fake.proxyUrl, caFile: fake.caFile, configDir: c.configDir, home: c.home }));
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).loggedIn).toBe(true);
    expect(tokenCalls()).toBe(tokens);
  }, 120_000);

  test("a lock held by a concurrent real CLI run: waits, re-reads under the lock, does not spend the refresh token twice", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: { mode: "direct" } });
    await c.login(Date.now() + 3 * MIN);
    fake.setTokenDelay(1500); // the CLI holds its locks while the token request is slow
    const tokens = tokenCalls();
    const cli = runClaude(binary, ["auth", "status"], claudeEnv({ proxyUrl: fake.proxyUrl, caFile: fake.caFile, configDir: c.configDir, home: c.home }));
    await waitUntil("the CLI's refresh lock", () => exists(join(c!.configDir, ".oauth_refresh.lock")), 20_000);
    const r = await run(["refresh", "--config", c.sandbox.configPath, "--verbose"], c.env);
    await cli;
    expect(r.code).toBe(0); // under the lock the file was already fresh
    expect(r.output).toContain("waited");
    expect(tokenCalls()).toBe(tokens + 1); // only the CLI's request
    expect(fake.tokenRequests().at(-1)!.status).toBe(200);
    expect((await readClaudeCredentials(c.configDir))!.accessToken).toBe(fake.issued.at(-1)!);
  }, 120_000);

  test("a stale lock (a killed holder) is taken over", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: { mode: "direct", lockStaleSeconds: 2 } });
    await c.login(Date.now() + 3 * MIN);
    const lock = `${c.configDir}.lock`;
    await mkdir(lock);
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    expect((await run(["refresh", "--config", c.sandbox.configPath], c.env)).code).toBe(5);
    expect(await exists(lock)).toBe(false);
  }, 120_000);

  test("429: backs off and retries, then exit 6 with the file untouched; invalid_grant: exit 7 and the flag", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: { mode: "direct", attempts: 2 } });
    const old = await c.login(Date.now() + 3 * MIN);
    fake.setMode("429");
    const tokens = tokenCalls();
    const r = await run(["refresh", "--config", c.sandbox.configPath], c.env);
    expect(r.code).toBe(6);
    expect(tokenCalls()).toBe(tokens + 2);
    expect((await readClaudeCredentials(c.configDir))!.accessToken).toBe(old.accessToken);
    fake.setMode("invalid_grant");
    const dead = await run(["refresh", "--config", c.sandbox.configPath], c.env);
    expect(dead.code).toBe(7);
    expect(await exists(join(c.sandbox.root, "openclaw", "REAUTH_NEEDED"))).toBe(true);
    expectNoSecrets(r.output + dead.output, [old.accessToken, old.refreshToken]);
  }, 120_000);

  test("outside the window without --force: nothing is sent", async () => {
    c = await refreshCase(fake);
    await c.writeConfig({ trigger: { mode: "direct" } });
    await c.login(Date.now() + 2 * HOUR);
    const tokens = tokenCalls();
    expect((await run(["refresh", "--config", c.sandbox.configPath], c.env)).code).toBe(0);
    expect(tokenCalls()).toBe(tokens);
  }, 120_000);
});
