/**
 * Self-test of the OpenClaw test bed: `bun test/bed/openclaw.smoke.ts [VERSION...]` (default 2026.5.28 2026.9.6).
 * Installs (cached), then checks what each release reads and prints it. Exits 1 on any failed check.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureOpenClaw, fakeToken, modelsStatus, pasteToken, prepareHome, runOpenClaw, testbedCache } from "./openclaw.ts";

const versions = process.argv.slice(2).length ? process.argv.slice(2) : ["2026.5.28", "2026.9.6"];
const homes: string[] = [];
let failed = 0;

function freshHome(): string {
  const home = mkdtempSync(join(tmpdir(), "openclaw-bed-"));
  homes.push(home);
  return home;
}

function check(what: string, ok: boolean, detail: unknown = ""): void {
  if (!ok) failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail === "" ? "" : `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`}`);
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, Math.round(performance.now() - started)];
}

/** What `models status --json` says about Anthropic. */
function anthropic(status: any) {
  const provider = status.auth.providers.find((p: any) => p.provider === "anthropic");
  const profiles = status.auth.oauth.profiles
    .filter((p: any) => p.provider === "anthropic")
    .map(({ profileId, type, status, expiresAt }: any) => ({ profileId, type, status, expiresAt }));
  return { effective: provider?.effective, env: provider?.env?.source, profiles };
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
}

console.log(`cache: ${testbedCache()}`);
for (const version of versions) {
  console.log(`\n== openclaw@${version}`);
  const [{ bin }, installMs] = await timed(() => ensureOpenClaw(version));
  console.log(`installed (or cached) in ${installMs} ms: ${bin}`);
  const sqliteEra = version >= "2026.6";

  // paste-token, twice: the second replaces the first
  const home = freshHome();
  await prepareHome(version, home);
  const first = fakeToken();
  const [pasted, pasteMs] = await timed(() => pasteToken(version, home, first));
  check(`paste-token exits 0 (${pasteMs} ms)`, pasted.code === 0, pasted.code === 0 ? "" : pasted.stderr);
  const before = Date.now();
  const [status, statusMs] = await timed(() => modelsStatus(version, home));
  const a = anthropic(status);
  console.log(`models status in ${statusMs} ms:`, JSON.stringify(a));
  check("stored as a token profile", a.profiles[0]?.type === "token" && a.profiles[0]?.profileId === "anthropic:default");
  check("expiresAt about 8 h ahead", Math.abs(a.profiles[0]?.expiresAt - (before + 28_800_000)) < 30_000, a.profiles[0]?.expiresAt - before);
  check("an 8-hour token says expiring", a.profiles[0]?.status === "expiring");
  const second = fakeToken();
  await pasteToken(version, home, second);
  const again = await modelsStatus(version, home);
  check("second paste-token replaces the first", JSON.stringify(again).includes(second.slice(-8)) && anthropic(again).profiles.length === 1);
  check("store named in effective.detail", sqliteEra ? a.effective?.detail === "~/.openclaw/state/openclaw.sqlite" : a.effective?.detail === "~/.openclaw/agents/main/agent/auth-profiles.json", a.effective);

  // env token only
  const envHome = freshHome();
  const envStatus = anthropic(await modelsStatus(version, envHome, { ANTHROPIC_OAUTH_TOKEN: fakeToken() }));
  check("env ANTHROPIC_OAUTH_TOKEN alone is reported as env", envStatus.effective?.kind === "env" && envStatus.env === "env: ANTHROPIC_OAUTH_TOKEN", envStatus);

  // a hand-written auth-profiles.json (JSON era) / a leftover one (SQLite era)
  const jsonHome = freshHome();
  const expires = Date.now() + 3_600_000;
  writeJson(join(jsonHome, ".openclaw/agents/main/agent/auth-profiles.json"), {
    version: 1,
    profiles: { "anthropic:default": { type: "oauth", provider: "anthropic", access: fakeToken(), refresh: "sk-ant-ort01-fake", expires } },
  });
  const jsonRun = await runOpenClaw(version, jsonHome, ["models", "status", "--json"]);
  if (sqliteEra) {
    check("leftover auth-profiles.json fails with AUTH_PROFILE_MIGRATION_REQUIRED", jsonRun.code === 1 && jsonRun.stderr.includes("AUTH_PROFILE_MIGRATION_REQUIRED"), jsonRun.stderr.split("\n")[0]);
  } else {
    const j = anthropic(JSON.parse(jsonRun.stdout));
    check("auth-profiles.json oauth profile read", j.profiles[0]?.type === "oauth" && j.profiles[0]?.expiresAt === expires, j);
  }

  // credentials/oauth.json alone
  const oauthHome = freshHome();
  writeJson(join(oauthHome, ".openclaw/credentials/oauth.json"), { anthropic: { access: fakeToken(), refresh: "sk-ant-ort01-fake", expires } });
  const oauthRun = await runOpenClaw(version, oauthHome, ["models", "status", "--json"]);
  if (sqliteEra) {
    check("leftover credentials/oauth.json fails with AUTH_PROFILE_MIGRATION_REQUIRED", oauthRun.code === 1 && oauthRun.stderr.includes("AUTH_PROFILE_MIGRATION_REQUIRED"), oauthRun.stderr.split("\n")[0]);
  } else {
    const o = anthropic(JSON.parse(oauthRun.stdout));
    check("credentials/oauth.json imported as anthropic:default oauth", o.profiles[0]?.profileId === "anthropic:default" && o.profiles[0]?.type === "oauth", o);
  }
}

for (const home of homes) rmSync(home, { recursive: true, force: true });
console.log(`\n${failed ? `${failed} check(s) failed` : "all checks passed"}`);
process.exit(failed ? 1 : 0);
