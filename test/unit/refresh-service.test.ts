import { afterEach, describe, expect, test } from "bun:test";
import { fakeClock } from "../support/fake-clock.ts";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import type { NotifyEvent } from "../../src/notify/event.ts";
import type { ProcessRunner } from "../../src/process/run.ts";
import type { CheckDeps } from "../../src/refresh/check.ts";
import { readLogin, type Login } from "../../src/refresh/inspect.ts";
import { createRefreshService } from "../../src/refresh/service.ts";
import { fingerprint } from "../../src/log/redact.ts";
import type { SyncReport } from "../../src/sync/engine.ts";

/**
 * The in-service refresh scheduler on a fake clock: the CLI is a process-runner seam that does what Claude Code does
 * (rewrites its file by temp file and rename when it refreshes; blanks it on invalid_grant; nothing when offline);
 * the files, the state record and the flag file are real.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;

const dirs: string[] = [];
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type Cli = "refresh" | "offline" | "invalid_grant";

async function setup(options: { expiresIn: number; state?: object; cli?: Cli; readLogin?: (file: string) => Promise<Login> }) {
  const dir = mkdtempSync(join(tmpdir(), "oauth-sync-refresh-service-"));
  dirs.push(dir);
  const credentials = join(dir, "claude/.credentials.json");
  Bun.spawnSync(["mkdir", "-m", "700", join(dir, "claude")]);
  const clock = fakeClock(Date.now());
  const login = (accessToken: string, expiresAt: number, refreshToken = fakeToken("ort")) => {
    writeFileSync(`${credentials}.tmp`, credentialsJson(accessToken, expiresAt, refreshToken), { mode: 0o600 });
    renameSync(`${credentials}.tmp`, credentials);
  };
  login(fakeToken(), clock.now() + options.expiresIn);
  if (options.state) {
    Bun.spawnSync(["mkdir", "-m", "700", join(dir, "state")]);
    writeFileSync(join(dir, "state/state.json"), JSON.stringify({ version: 1, ...options.state }));
  }
  const parsed = parseConfig(
    JSON.stringify({
      credentials,
      stateDir: join(dir, "state"),
      targets: [{ kind: "env-file", path: join(dir, "openclaw/.env") }],
      trigger: { mode: "host", claude: "claude" },
      refresh: { flagFile: join(dir, "REAUTH_NEEDED"), confirmTries: 2, retrySeconds: 60 },
      notify: { reminderHours: 4 },
    }),
    join(dir, "config.json"),
  );
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const config: Config = parsed.config;
  const cli = { mode: (options.cli ?? "refresh") as Cli, runs: [] as string[][] };
  // What Claude Code does when `claude auth status` runs inside its refresh window.
  const run: ProcessRunner = async (argv) => {
    cli.runs.push(argv);
    if (cli.mode === "refresh") login(fakeToken(), clock.now() + 8 * HOUR);
    if (cli.mode === "invalid_grant") writeFileSync(credentials, JSON.stringify({ claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0 } }));
    return { code: cli.mode === "invalid_grant" ? 1 : 0, stdout: "", stderr: "", timedOut: false };
  };
  const events: NotifyEvent[] = [];
  let afterTrigger = 0;
  const check: CheckDeps = { now: clock.now, sleep: async () => {}, random: () => 0.5, fetch: async () => new Response("", { status: 500 }), run, log: () => {}, confirmDelayMs: 0 };
  const service = createRefreshService(config, { ...check, clock, notify: async (e) => void events.push(e), afterTrigger: () => void afterTrigger++, readLogin: options.readLogin });
  stop = () => service.stop();
  const state = () => JSON.parse(readFileSync(join(dir, "state/state.json"), "utf8"));
  /** Move the clock and let the tick it started finish (real file reads in between). */
  async function advance(ms: number) {
    clock.advance(ms);
    await Bun.sleep(30);
  }
  return { dir, credentials, config, clock, cli, events, service, state, advance, login, flag: join(dir, "REAUTH_NEEDED"), afterTrigger: () => afterTrigger };
}

describe("the refresh scheduler inside watch", () => {
  test("outside the window: no CLI run; it looks again at most every 5 minutes, and triggers when the window opens", async () => {
    const t = await setup({ expiresIn: 20 * MIN });
    t.service.start();
    await Bun.sleep(30);
    expect(t.cli.runs).toEqual([]);
    expect(t.clock.nextAt).toBe(t.clock.now() + 5 * MIN);
    await t.advance(10 * MIN);
    expect(t.cli.runs).toEqual([]);
    // The window opens 4 minutes before expiry (refresh.windowSeconds, inside the CLI's own 5): 16 minutes from the start.
    await t.advance(5 * MIN);
    expect(t.cli.runs).toEqual([]);
    await t.advance(1 * MIN);
    expect(t.cli.runs).toEqual([["claude", "auth", "status"]]);
    expect(t.service.triggers).toBe(1);
    expect(t.afterTrigger()).toBe(1);
    expect(t.state().refresh).toMatchObject({ lastResult: "refreshed", failures: 0 });
    // Fresh for 8 hours now: nothing more within the next hour.
    await t.advance(HOUR);
    expect(t.cli.runs).toHaveLength(1);
  });

  test("offline (the expiry did not move): transient, retried every retrySeconds, recorded with a failure count", async () => {
    const t = await setup({ expiresIn: 2 * MIN, cli: "offline" });
    t.service.start();
    await Bun.sleep(30);
    expect(t.cli.runs).toHaveLength(2); // confirmTries: the CLI sometimes skips its refresh
    expect(t.state().refresh).toMatchObject({ lastResult: "transient", failures: 1 });
    await t.advance(59_000);
    expect(t.cli.runs).toHaveLength(2);
    t.cli.mode = "refresh";
    await t.advance(1000);
    expect(t.cli.runs).toHaveLength(3);
    expect(t.state().refresh).toMatchObject({ lastResult: "refreshed", failures: 0 });
  });

  test("a service started afresh keeps to the retry spacing of the trigger the last one ran (state file)", async () => {
    const t = await setup({ expiresIn: 2 * MIN, cli: "offline", state: { refresh: { lastTriggerAt: new Date(Date.now() - 20_000).toISOString(), lastResult: "transient", failures: 3 } } });
    t.service.start();
    await Bun.sleep(30);
    expect(t.cli.runs).toEqual([]);
    await t.advance(40_000);
    expect(t.cli.runs).toHaveLength(2);
  });

  test("invalid_grant: flag file and one message; reminders only every reminderHours; a fresh login removes the flag and says so", async () => {
    const t = await setup({ expiresIn: 2 * MIN, cli: "invalid_grant" });
    t.service.start();
    await Bun.sleep(50);
    expect(existsSync(t.flag)).toBe(true);
    expect(readFileSync(t.flag, "utf8")).toContain("claude auth login");
    expect(t.events.map((e) => e.kind)).toEqual(["reauth-needed"]);
    expect(t.state().reauth).toMatchObject({ needed: true });
    // A dead login is never triggered again; the scheduler still looks every 5 minutes, quietly.
    await t.advance(HOUR);
    expect(t.cli.runs).toHaveLength(1);
    expect(t.events).toHaveLength(1);
    await t.advance(3 * HOUR);
    expect(t.events.map((e) => e.kind)).toEqual(["reauth-needed", "reauth-reminder"]);
    // `claude auth login`: a new refresh token.
    t.login(fakeToken(), t.clock.now() + 8 * HOUR);
    await t.advance(5 * MIN);
    expect(existsSync(t.flag)).toBe(false);
    expect(t.events.map((e) => e.kind)).toEqual(["reauth-needed", "reauth-reminder", "recovered"]);
    expect(t.state().reauth).toBeUndefined();
  });

  test("after every pass: a blanked file read by the pass is a dead login at once; the expiry is looked at again", async () => {
    const t = await setup({ expiresIn: 3 * HOUR });
    t.service.start();
    await Bun.sleep(30);
    const blanked = { source: { ok: false, reason: "logged-out", message: "blanked" }, outcomes: [], changed: false, reloadNeeded: false, ok: false } as unknown as SyncReport;
    await t.service.onSync(blanked);
    expect(t.events.map((e) => e.kind)).toEqual(["reauth-needed"]);
    expect(existsSync(t.flag)).toBe(true);
    // A pass that read a live token of a new login: recovered.
    t.login(fakeToken(), t.clock.now() + 8 * HOUR);
    const live = { source: { ok: true, credentials: {} }, outcomes: [], changed: false, reloadNeeded: false, ok: true } as unknown as SyncReport;
    await t.service.onSync(live);
    await Bun.sleep(30); // the look it asked for
    expect(t.events.map((e) => e.kind)).toEqual(["reauth-needed", "recovered"]);
    expect(existsSync(t.flag)).toBe(false);
  });

  test("a look reads the CLI's file again only when it or the state record changed since the last one", async () => {
    let reads = 0;
    const t = await setup({ expiresIn: 3 * HOUR, readLogin: (file) => (reads++, readLogin(file)) });
    t.service.start();
    await Bun.sleep(30);
    expect(reads).toBe(1);
    for (let i = 0; i < 6; i++) await t.advance(5 * MIN);
    expect(reads).toBe(1);
    // The CLI rotates (temp file and rename: a new inode): read at the next look.
    const refreshToken = fakeToken("ort");
    t.login(fakeToken(), t.clock.now() + 8 * HOUR, refreshToken);
    await t.advance(5 * MIN);
    expect(reads).toBe(2);
    await t.advance(5 * MIN);
    expect(reads).toBe(2);
    // Another process (a `check` run) records that this login's refresh token was rejected, and has told a person:
    // the next look reads again and takes the login for dead (the flag file; no second message).
    Bun.spawnSync(["mkdir", "-p", "-m", "700", join(t.dir, "state")]);
    const at = new Date(t.clock.now()).toISOString();
    const reauth = { needed: true, since: at, lastNotifiedAt: at, reason: "rejected", deadRefreshFingerprint: fingerprint(refreshToken) };
    writeFileSync(join(t.dir, "state/state.json"), JSON.stringify({ version: 1, reauth }));
    expect(existsSync(t.flag)).toBe(false);
    await t.advance(5 * MIN);
    expect(reads).toBe(3);
    expect(existsSync(t.flag)).toBe(true);
    expect(t.events).toEqual([]);
    // A dead login is read at every look (its reminders are due by the clock).
    await t.advance(5 * MIN);
    expect(reads).toBe(4);
  });

  test("trigger.mode none: never runs anything, still looks after the login", async () => {
    const t = await setup({ expiresIn: 2 * MIN });
    const none = { ...t.config, trigger: { mode: "none" } } as Config;
    const other = createRefreshService(none, { now: t.clock.now, sleep: async () => {}, random: () => 0.5, fetch: fetch, run: async () => ((t.cli.runs.push(["ran"]), { code: 0, stdout: "", stderr: "", timedOut: false })), log: () => {}, clock: t.clock, notify: async () => {} });
    await t.service.stop();
    other.start();
    stop = () => other.stop();
    await t.advance(HOUR);
    expect(t.cli.runs).toEqual([]);
  });
});
