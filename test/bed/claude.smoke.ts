/**
 * Smoke run of the Claude CLI test bed: the real CLI against the fake OAuth server, every case the
 * refresh feature depends on. A plain script (not picked up by `bun test`):
 *
 *   node_modules/.bin/bun test/bed/claude.smoke.ts [version]
 *
 * Prints one block per case (tokens as fingerprints) and exits 1 if any expectation failed.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  claudeEnv,
  ensureClaudeCli,
  fakeAccessToken,
  fakeRefreshToken,
  fingerprint,
  readClaudeCredentials,
  runClaude,
  startFakeOAuth,
  testbedCacheDir,
  watchClaudeLocks,
  writeClaudeCredentials,
  type ClaudeRun,
  type FakeOAuth,
  type FakeOAuthMode,
} from "./claude.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const version = process.argv[2] ?? "2.1.330";
const failures: string[] = [];
const root = mkdtempSync(join(tmpdir(), "claude-smoke-"));

const redact = (text: string) => text.replace(/sk-ant-[A-Za-z0-9_-]+/g, (t) => fingerprint(t)).replace(root, "$ROOT");
function expect(name: string, ok: boolean, detail: string) {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${detail}`);
  if (!ok) failures.push(`${name}: ${detail}`);
}

// --- install ------------------------------------------------------------------------------------
const installStarted = performance.now();
const binary = await ensureClaudeCli(version);
const installMs = Math.round(performance.now() - installStarted);
console.log(`claude ${version}: ${binary}`);
console.log(`  ensureClaudeCli took ${installMs} ms (cache ${testbedCacheDir()}), binary ${(statSync(binary).size / 1e6).toFixed(0)} MB`);
const again = performance.now();
await ensureClaudeCli(version);
console.log(`  second call ${Math.round(performance.now() - again)} ms`);

const fake = await startFakeOAuth();
console.log(`fake OAuth: proxy ${fake.proxyUrl}, CA ${fake.caFile}\n`);

interface Case {
  name: string;
  configDir: string;
  home: string;
  env: Record<string, string>;
}
let caseNo = 0;
function newCase(name: string, proxyUrl = fake.proxyUrl): Case {
  const dir = join(root, `${++caseNo}`);
  const configDir = join(dir, "config");
  const home = join(dir, "home");
  mkdirSync(home, { recursive: true });
  return { name, configDir, home, env: claudeEnv({ proxyUrl, caFile: fake.caFile, configDir, home }) };
}

interface Outcome {
  run: ClaudeRun;
  before: { accessToken: string; refreshToken: string; expiresAt: number; ino: number };
  after: Awaited<ReturnType<typeof readClaudeCredentials>>;
  afterIno: number;
  afterMode: number;
  tokenRequests: number;
  requests: FakeOAuth["requests"];
  locks: ReturnType<typeof watchClaudeLocks>["events"];
  locksLeft: Record<string, boolean>;
  startedAt: number;
}

async function scenario(c: Case, opts: { expiresInMs: number; mode?: FakeOAuthMode; args?: string[]; writeCredentials?: boolean; fake?: FakeOAuth }): Promise<Outcome> {
  const server = opts.fake ?? fake;
  server.setMode(opts.mode ?? "ok");
  const credsPath = join(c.configDir, ".credentials.json");
  if (opts.writeCredentials !== false) {
    await writeClaudeCredentials(c.configDir, { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + opts.expiresInMs });
  }
  const b = (await readClaudeCredentials(c.configDir))!;
  const before = { accessToken: b.accessToken, refreshToken: b.refreshToken, expiresAt: b.expiresAt, ino: statSync(credsPath).ino };
  const first = server.requests.length;
  const locks = watchClaudeLocks(c.configDir);
  const startedAt = performance.now();
  const run = await runClaude(binary, opts.args ?? ["auth", "status"], c.env);
  locks.stop();
  server.setMode("ok");
  const after = await readClaudeCredentials(c.configDir);
  const st = statSync(credsPath);
  const requests = server.requests.slice(first);
  const out: Outcome = {
    run,
    before,
    after,
    afterIno: st.ino,
    afterMode: st.mode & 0o777,
    tokenRequests: requests.filter((r) => r.path.startsWith("/v1/oauth/token")).length,
    requests,
    locks: locks.events,
    locksLeft: locks.present(),
    startedAt,
  };
  report(c, out);
  return out;
}

function report(c: Case, o: Outcome) {
  const a = o.after;
  console.log(`## ${c.name}`);
  console.log(`  exit ${o.run.code} in ${o.run.ms} ms; requests: ${o.requests.map((r) => `${r.method} ${r.host}${r.path.split("?")[0]} ${r.status}`).join(", ") || "none"}`);
  console.log(`  before: access ${fingerprint(o.before.accessToken)} refresh ${fingerprint(o.before.refreshToken)} expiresAt ${fmtExp(o.before.expiresAt)}`);
  console.log(`  after:  access ${fingerprint(a?.accessToken)} refresh ${fingerprint(a?.refreshToken)} expiresAt ${fmtExp(a?.expiresAt)} mode ${o.afterMode.toString(8)} inode ${o.afterIno === o.before.ino ? "same" : "new"}`);
  const label = (p: string) => lockLabel(p, c.configDir);
  const holds: string[] = [];
  const open = new Map<string, number>();
  for (const e of o.locks) {
    if (e.event === "appeared") open.set(e.path, e.at);
    else {
      const since = open.get(e.path);
      holds.push(`${label(e.path)} +${Math.round((since ?? o.startedAt) - o.startedAt)}ms held ${since === undefined ? "?" : Math.round(e.at - since)}ms`);
      open.delete(e.path);
    }
  }
  for (const [p, since] of open) holds.push(`${label(p)} +${Math.round(since - o.startedAt)}ms, still there after exit`);
  console.log(`  locks: ${holds.join("; ") || "none seen"}`);
  const text = redact((o.run.stdout + (o.run.stderr ? `\n[stderr] ${o.run.stderr}` : "")).trim());
  console.log(`  printed: ${text.length > 900 ? text.slice(0, 900) + "…" : text}`.replace(/\n/g, "\n    "));
}

function fmtExp(ms: number | undefined) {
  if (ms === undefined) return "undefined";
  if (ms === 0) return "0";
  const d = Math.round((ms - Date.now()) / 1000);
  return `${ms} (now${d >= 0 ? "+" : ""}${d}s)`;
}

const unchanged = (o: Outcome) => o.after?.accessToken === o.before.accessToken && o.after?.refreshToken === o.before.refreshToken && o.after?.expiresAt === o.before.expiresAt;
function expectRefreshed(name: string, o: Outcome, server = fake) {
  expect(name, o.run.code === 0, `exit 0 (got ${o.run.code})`);
  expect(name, o.tokenRequests === 1, `exactly one refresh (got ${o.tokenRequests})`);
  expect(name, o.after?.accessToken === server.issued.at(-1), "file holds the newly issued access token");
  expect(name, o.after?.refreshToken === server.issuedRefreshTokens.at(-1), "file holds the newly issued refresh token");
  const want = Date.now() + 28_800_000;
  expect(name, Math.abs((o.after?.expiresAt ?? 0) - want) < 2 * MIN, `expiresAt moved to ~now+8h (${fmtExp(o.after?.expiresAt)})`);
  expect(name, o.afterMode === 0o600, `mode 0600 (got ${o.afterMode.toString(8)})`);
  expect(name, o.afterIno !== o.before.ino, "new inode (written by rename)");
}
function expectUntouched(name: string, o: Outcome, code = 0) {
  expect(name, o.run.code === code, `exit ${code} (got ${o.run.code})`);
  expect(name, unchanged(o), "tokens and expiresAt unchanged");
}

// 1. far from expiry
{
  const c = newCase("auth status, token 8 h from expiry");
  const o = await scenario(c, { expiresInMs: 8 * HOUR });
  expect(c.name, o.tokenRequests === 0, `no request to /v1/oauth/token (got ${o.tokenRequests})`);
  expectUntouched(c.name, o);
  console.log(`  stdout is JSON: ${isJson(o.run.stdout)}`);
}

// 2-3. inside the window / expired
for (const [label, ms] of [["1 min from expiry", MIN], ["4.5 min from expiry", 4.5 * MIN], ["already expired 1 min ago", -MIN], ["expired 3 days ago", -72 * HOUR]] as const) {
  const c = newCase(`auth status, token ${label}`);
  const o = await scenario(c, { expiresInMs: ms });
  expectRefreshed(c.name, o);
  const req = fake.tokenRequests().at(-1)?.json;
  if (req) console.log(`  token request body: ${redact(JSON.stringify(req))}`);
}

// 4. just outside the window
{
  const c = newCase("auth status, token 5.5 min from expiry (just outside the window)");
  const o = await scenario(c, { expiresInMs: 5.5 * MIN });
  expect(c.name, o.tokenRequests === 0, `no refresh (got ${o.tokenRequests})`);
  expectUntouched(c.name, o);
}

// 5. invalid_grant
for (const args of [["auth", "status"], ["auth", "status", "--text"]]) {
  const c = newCase(`${args.join(" ")}, token 1 min from expiry, server says invalid_grant`);
  const o = await scenario(c, { expiresInMs: MIN, mode: "invalid_grant", args });
  expect(c.name, o.run.code === 1, `exit 1 (got ${o.run.code})`);
  expect(c.name, o.tokenRequests === 1, `one refresh attempt (got ${o.tokenRequests})`);
  expect(c.name, o.after?.accessToken === "" && o.after?.refreshToken === "" && o.after?.expiresAt === 0, "file blanked: accessToken \"\", refreshToken \"\", expiresAt 0");
  expect(c.name, o.afterMode === 0o600 && o.afterIno !== o.before.ino, "still 0600, new inode");
  console.log(`  fields kept: ${Object.keys(o.after ?? {}).join(",")}`);
}

// 6. server errors / network down
for (const mode of ["500", "429", "drop"] as const) {
  for (const [label, ms] of [["1 min from expiry", MIN], ["expired 1 min ago", -MIN]] as const) {
    const c = newCase(`auth status, token ${label}, token endpoint ${mode === "drop" ? "unreachable (proxy drops CONNECT)" : `answers ${mode}`}`);
    const o = await scenario(c, { expiresInMs: ms, mode });
    expectUntouched(c.name, o);
    if (mode !== "drop") expect(c.name, o.tokenRequests === 1, `one attempt, no retry (got ${o.tokenRequests})`);
  }
}
{
  // nothing listens on the proxy port at all
  const dead = await freePort();
  const c = newCase("auth status, token 1 min from expiry, proxy port closed", `http://127.0.0.1:${dead}`);
  const o = await scenario(c, { expiresInMs: MIN });
  expectUntouched(c.name, o);
}

// 7. claude -p
{
  const c = newCase('claude -p "say ok", token 8 h from expiry');
  const o = await scenario(c, { expiresInMs: 8 * HOUR, args: ["-p", "say ok"] });
  const msgs = o.requests.filter((r) => r.path.startsWith("/v1/messages"));
  expect(c.name, o.run.code === 0 && o.run.stdout.trim() === "ok", `exit 0 and prints "ok" (got ${o.run.code}, ${JSON.stringify(redact(o.run.stdout.trim()))})`);
  expect(c.name, o.tokenRequests === 0, `no refresh (got ${o.tokenRequests})`);
  expect(c.name, msgs.length === 1, `one /v1/messages call (got ${msgs.length})`);
  expect(c.name, msgs[0]?.headers.authorization === `Bearer ${o.before.accessToken}`, "/v1/messages used the file's token");
  expectUntouched(c.name, o);
  if (msgs[0]) console.log(`  /v1/messages: model ${msgs[0].json?.model}, stream ${msgs[0].json?.stream}, max_tokens ${msgs[0].json?.max_tokens}, path ${msgs[0].path}, anthropic-beta ${msgs[0].headers["anthropic-beta"]}`);
  console.log(`  files: ${listFiles(c)}`);
}
{
  const c = newCase('claude -p "say ok", token 1 min from expiry');
  const o = await scenario(c, { expiresInMs: MIN, args: ["-p", "say ok"] });
  const msgs = o.requests.filter((r) => r.path.startsWith("/v1/messages"));
  expectRefreshed(c.name, o);
  expect(c.name, msgs.length === 1 && msgs[0]?.headers.authorization === `Bearer ${fake.issued.at(-1)}`, "one /v1/messages call, with the new token");
}
{
  const c = newCase('claude -p "say ok", token 1 min from expiry, invalid_grant');
  const o = await scenario(c, { expiresInMs: MIN, mode: "invalid_grant", args: ["-p", "say ok"] });
  expect(c.name, o.run.code === 1, `exit 1 (got ${o.run.code})`);
  expect(c.name, o.after?.accessToken === "" && o.after?.expiresAt === 0, "file blanked");
  expect(c.name, !o.requests.some((r) => r.path.startsWith("/v1/messages")), "no /v1/messages call");
}
{
  const c = newCase('claude -p "say ok", token 1 min from expiry, token endpoint 500');
  const o = await scenario(c, { expiresInMs: MIN, mode: "500", args: ["-p", "say ok"] });
  expectUntouched(c.name, o);
  console.log(`  token attempts: ${o.tokenRequests}; /v1/messages calls: ${o.requests.filter((r) => r.path.startsWith("/v1/messages")).length}`);
}
{
  const c = newCase('claude -p "say ok", token expired 1 min ago, token endpoint 500');
  const o = await scenario(c, { expiresInMs: -MIN, mode: "500", args: ["-p", "say ok"] });
  expect(c.name, unchanged(o), "tokens unchanged");
  console.log(`  token attempts: ${o.tokenRequests}; /v1/messages calls: ${o.requests.filter((r) => r.path.startsWith("/v1/messages")).length}`);
}

// 8. single-use refresh tokens: putting the pre-refresh file back makes the next refresh fail
{
  const c = newCase("refresh token reused (old file restored after a refresh)");
  const first = await scenario(c, { expiresInMs: MIN });
  expectRefreshed(c.name, first);
  // The config dir is warm now, and a warm `auth status` sometimes skips the refresh altogether (see
  // the race below): try until the CLI really presents the old refresh token.
  let second: Outcome | undefined;
  for (let attempt = 1; attempt <= 5; attempt++) {
    await writeClaudeCredentials(c.configDir, { accessToken: first.before.accessToken, refreshToken: first.before.refreshToken, expiresAt: Date.now() + MIN });
    second = await scenario({ ...c, name: `${c.name}: second run (config dir now warm), attempt ${attempt}` }, { expiresInMs: MIN, writeCredentials: false });
    if (second.tokenRequests > 0) break;
  }
  expect(c.name, second!.tokenRequests === 1 && second!.requests.find((r) => r.path.startsWith("/v1/oauth/token"))?.status === 400, "the reused refresh token got invalid_grant");
  expect(c.name, second!.after?.accessToken === "" && second!.after?.expiresAt === 0, "file blanked");
  expect(c.name, second!.run.code === 0 && JSON.parse(second!.run.stdout).loggedIn === true, `warm config dir: exit 0 and "loggedIn": true all the same (got exit ${second!.run.code})`);
  const n0 = fake.requests.length;
  const third = await runClaude(binary, ["auth", "status"], c.env);
  console.log(`  a third run on the blanked file: exit ${third.code}, loggedIn ${JSON.parse(third.stdout).loggedIn}, ${third.ms} ms, requests ${fake.requests.length - n0}`);
  expect(c.name, third.code === 1, "the next auth status on the blanked file exits 1");
}

// 9. warm vs fresh config dir: `.claude.json` present (any earlier run made it) changes what auth status reports
for (const mode of ["invalid_grant", "ok"] as const) {
  const c = newCase(`auth status in a warm config dir (.claude.json exists), token 1 min from expiry, ${mode}`);
  await writeClaudeCredentials(c.configDir, { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + 8 * HOUR });
  await runClaude(binary, ["auth", "status"], c.env);
  const o = await scenario(c, { expiresInMs: MIN, mode });
  if (o.tokenRequests === 0) console.log("  (the refresh was skipped this time: see the race below)");
  else if (mode === "invalid_grant") {
    expect(c.name, o.after?.accessToken === "" && o.after?.expiresAt === 0, "file blanked");
    expect(c.name, o.run.code === 0, `exit 0 although the login is dead (got ${o.run.code})`);
  } else expectRefreshed(c.name, o);
}
{
  const N = 20;
  const tally = new Map<string, number>();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const c = newCase("race");
    await writeClaudeCredentials(c.configDir, { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + 8 * HOUR });
    await runClaude(binary, ["auth", "status"], c.env);
    await writeClaudeCredentials(c.configDir, { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + MIN });
    const n0 = fake.requests.length;
    await runClaude(binary, ["auth", "status"], c.env);
    const refreshed = fake.requests.slice(n0).some((r) => r.path.startsWith("/v1/oauth/token"));
    const key = refreshed ? "refreshed" : "no request at all";
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  console.log(`## race: ${N} warm config dirs, token 1 min from expiry, one auth status each (${Math.round(performance.now() - t0)} ms)`);
  console.log(`  ${[...tally].map(([k, v]) => `${k}: ${v}`).join(", ")}`);
}

// 10. a token the server has revoked (not yet expired locally)
for (const args of [["auth", "status"], ["-p", "say ok"]]) {
  const c = newCase(`${args.join(" ")}, token 8 h from expiry but revoked server-side`);
  await writeClaudeCredentials(c.configDir, { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + 8 * HOUR });
  fake.revokeAccessToken((await readClaudeCredentials(c.configDir))!.accessToken);
  const o = await scenario(c, { expiresInMs: 0, writeCredentials: false, args });
  console.log(`  token requests ${o.tokenRequests}, /v1/messages calls ${o.requests.filter((r) => r.path.startsWith("/v1/messages")).length}, file ${unchanged(o) ? "unchanged" : "changed"}`);
}

// 11. a token answer whose scope does not echo the request
for (const scope of ["user:inference", "user:profile", ""]) {
  const picky = await startFakeOAuth({ scope });
  const c = newCase(`token answer with scope ${JSON.stringify(scope)}`);
  c.env = claudeEnv({ proxyUrl: picky.proxyUrl, caFile: picky.caFile, configDir: c.configDir, home: c.home });
  const o = await scenario(c, { expiresInMs: MIN, fake: picky });
  console.log(`  token requests ${o.tokenRequests}; file ${unchanged(o) ? "unchanged (new token dropped)" : o.after?.accessToken === picky.issued.at(-1) ? "holds the new token" : "changed otherwise"}; scopes now ${JSON.stringify(o.after?.scopes)}`);
  await picky.close();
}

// 12. the default layout (no CLAUDE_CONFIG_DIR): HOME/.claude/.credentials.json, HOME/.claude.json
{
  const c = newCase("default layout: no CLAUDE_CONFIG_DIR, HOME/.claude/.credentials.json");
  c.configDir = join(c.home, ".claude");
  c.env = claudeEnv({ proxyUrl: fake.proxyUrl, caFile: fake.caFile, home: c.home });
  const o = await scenario(c, { expiresInMs: MIN });
  expectRefreshed(c.name, o);
  console.log(`  files: ${listFiles(c)}`);
}

// 13. two CLIs at once in the same config dir
{
  const c = newCase("two `auth status` at once, token 1 min from expiry");
  await writeClaudeCredentials(c.configDir, { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + MIN });
  const first = fake.requests.length;
  const locks = watchClaudeLocks(c.configDir);
  const t0 = performance.now();
  const runs = await Promise.all([runClaude(binary, ["auth", "status"], c.env), runClaude(binary, ["auth", "status"], c.env)]);
  locks.stop();
  const tokenReqs = fake.requests.slice(first).filter((r) => r.path.startsWith("/v1/oauth/token"));
  const after = await readClaudeCredentials(c.configDir);
  console.log(`## ${c.name}`);
  console.log(`  exits ${runs.map((r) => `${r.code} in ${r.ms} ms`).join(", ")}; token requests ${tokenReqs.length} (${tokenReqs.map((r) => r.status).join(",")})`);
  console.log(`  locks: ${locks.events.map((e) => `${lockLabel(e.path)} ${e.event} +${Math.round(e.at - t0)}ms`).join("; ")}`);
  expect(c.name, runs.every((r) => r.code === 0), "both exit 0");
  expect(c.name, tokenReqs.length === 1, `one refresh between them (got ${tokenReqs.length})`);
  expect(c.name, after?.accessToken === fake.issued.at(-1), "file holds the token issued");
}

// 14. back-to-back runs (a stale .claude.json.lock dir stays behind after auth status)
{
  const c = newCase("three `auth status` back to back, same config dir, token 8 h from expiry");
  await writeClaudeCredentials(c.configDir, { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + 8 * HOUR });
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push((await runClaude(binary, ["auth", "status"], c.env)).ms);
  console.log(`## ${c.name}\n  ${times.join(" ms, ")} ms`);
}

// 15. what a bare config dir turns into
{
  const c = newCase("files: config dir with only .credentials.json, empty HOME");
  await writeClaudeCredentials(c.configDir, { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + 8 * HOUR });
  const r = await runClaude(binary, ["auth", "status"], c.env);
  console.log(`## ${c.name}\n  auth status exit ${r.code}; then: ${listFiles(c)}`);
  console.log(`  .claude.json: ${readFileSync(join(c.configDir, ".claude.json"), "utf8").replace(/\s+/g, " ")}`);
  console.log(`  .credentials.json as the CLI left it: ${redact(readFileSync(join(c.configDir, ".credentials.json"), "utf8"))}`);
}
{
  const c = newCase("no .credentials.json at all");
  mkdirSync(c.configDir, { recursive: true });
  const r = await runClaude(binary, ["auth", "status"], c.env);
  console.log(`## ${c.name}\n  exit ${r.code} in ${r.ms} ms; printed ${redact(r.stdout).replace(/\s+/g, " ")}`);
  expect(c.name, r.code === 1, "exit 1 when logged out");
}

await fake.close();
rmSync(root, { recursive: true, force: true });
console.log(`\n${failures.length ? `${failures.length} expectation(s) failed:\n  ${failures.join("\n  ")}` : "all expectations met"}`);
process.exit(failures.length ? 1 : 0);

function lockLabel(path: string, configDir?: string) {
  if (configDir && path === `${configDir}.lock`) return "CONFIGDIR.lock";
  if (path.endsWith("/config.lock")) return "CONFIGDIR.lock";
  if (configDir && path.startsWith(configDir + "/")) return path.slice(configDir.length + 1);
  return path.replace(root, "$ROOT");
}

function isJson(text: string) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function listFiles(c: Case) {
  const list = (dir: string) => {
    try {
      return (readdirSync(dir, { recursive: true }) as string[]).sort().join(", ") || "(empty)";
    } catch {
      return "(missing)";
    }
  };
  return c.configDir.startsWith(c.home + "/") ? `HOME: ${list(c.home)}` : `CONFIGDIR: ${list(c.configDir)} | HOME: ${list(c.home)}`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
