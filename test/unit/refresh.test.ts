import { fakeToken } from "../../src/demo/sandbox.ts";
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { checkExitCode } from "../../src/commands/_edge.ts";
import { isStale } from "../../src/refresh/direct/lock.ts";
import { CLIENT_ID, directBackoffMs, mergeTokens, parseRetryAfter, parseTokenAnswer, tokenRequestBody } from "../../src/refresh/direct/token.ts";
import { inspectLogin, type Login } from "../../src/refresh/inspect.ts";
import { containerInvocation, hostInvocation } from "../../src/refresh/invocation.ts";
import { BLANK, defaultFlagFile, flagText, isNewLogin, loginCommand, stillDead } from "../../src/refresh/reauth.ts";
import { chooseCliUser as chooseUser } from "../../src/refresh/trigger.ts";
import { parsePasswd } from "../../src/users/accounts.ts";
import { judgeTrigger, nextStep, refreshDue, type SchedulerSettings } from "../../src/refresh/window.ts";
import { reminderDue } from "../../src/notify/policy.ts";

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.parse("2026-05-01T12:00:00Z");
const live = (expiresAt: number, access = "a", refresh = "r"): Extract<Login, { kind: "live" }> => ({
  kind: "live",
  expiresAt,
  accessFingerprint: fingerprint(access),
  refreshFingerprint: fingerprint(refresh),
  hasRefreshToken: true,
});
const settings: SchedulerSettings = { windowMs: 4 * MIN, retryMs: 30 * S, slowRetryMs: 5 * MIN, slowAfterMs: HOUR, maxSleepMs: MIN };

describe("inspectLogin", () => {
  const file = (oauth: unknown) => JSON.stringify({ claudeAiOauth: oauth, mcpOAuth: {} });
  test("live, blanked, no login, malformed", () => {
    const [a, r] = [fakeToken(), fakeToken("ort")];
    expect(inspectLogin(file({ accessToken: a, refreshToken: r, expiresAt: T0 }), "f")).toEqual(live(T0, a, r));
    expect(inspectLogin(file({ accessToken: "", refreshToken: "", expiresAt: 0 }), "f").kind).toBe("blanked");
    expect(inspectLogin(JSON.stringify({ other: 1 }), "f").kind).toBe("no-login");
    expect(inspectLogin(file({ accessToken: 5, expiresAt: T0 }), "f").kind).toBe("no-login");
    expect(inspectLogin('{"claudeAiOauth":', "f").kind).toBe("malformed");
  });
  test("an expired token is still live (with its expiry): the refresher needs it", () => {
    const past = Date.UTC(2024, 0, 1);
    expect(inspectLogin(file({ accessToken: fakeToken(), refreshToken: fakeToken("ort"), expiresAt: past }), "f")).toMatchObject({ kind: "live", expiresAt: past });
  });
  test("a token of the wrong shape or an expiry out of range is malformed, never live", () => {
    for (const oauth of [
      { accessToken: `${fakeToken()}\nCOMPOSE_FILE=/evil.yml`, expiresAt: T0 },
      { accessToken: "t", expiresAt: T0 },
      { accessToken: fakeToken(), expiresAt: 8640000000000001 },
      { accessToken: fakeToken(), refreshToken: "r e", expiresAt: T0 },
    ]) expect(inspectLogin(file(oauth), "f").kind).toBe("malformed");
  });
  test("never carries a token", () => {
    const text = JSON.stringify(inspectLogin(file({ accessToken: "sk-ant-oat01-SECRET", refreshToken: "sk-ant-ort01-SECRET", expiresAt: T0 }), "f"));
    expect(text).not.toContain("SECRET");
  });
});

describe("refreshDue", () => {
  test("outside the window: wait until expiry minus the window", () => {
    expect(refreshDue(live(T0 + HOUR), T0, 4 * MIN)).toEqual({ action: "wait", expiresAt: T0 + HOUR, dueAt: T0 + HOUR - 4 * MIN });
  });
  test("the window's first millisecond triggers; so does an expired token", () => {
    expect(refreshDue(live(T0 + 4 * MIN), T0, 4 * MIN)).toMatchObject({ action: "trigger", reason: "in-window" });
    expect(refreshDue(live(T0 - 1), T0, 4 * MIN)).toMatchObject({ action: "trigger", reason: "expired" });
  });
  test("blanked: re-auth; unreadable: broken", () => {
    expect(refreshDue({ kind: "blanked" }, T0, MIN)).toEqual({ action: "reauth" });
    expect(refreshDue({ kind: "unreadable", message: "m" }, T0, MIN)).toMatchObject({ action: "broken", kind: "unreadable" });
  });
});

describe("judgeTrigger: only the file proves a refresh", () => {
  const before = live(T0, "old");
  test("a later expiry with a new token is a refresh", () => expect(judgeTrigger(before, live(T0 + 8 * HOUR, "new"))).toBe("refreshed"));
  test("the same file (the CLI exited 0 without network, or skipped) is not", () => expect(judgeTrigger(before, live(T0, "old"))).toBe("unchanged"));
  test("the CLI rewrote the file with the same token (it adds fields): not a refresh", () => expect(judgeTrigger(before, live(T0 + 1, "old"))).toBe("unchanged"));
  test("a blanked file is a dead login", () => expect(judgeTrigger(before, { kind: "blanked" })).toBe("dead"));
});

describe("nextStep: the in-service scheduler", () => {
  const expiresAt = T0 + 8 * HOUR;
  test("far from expiry: sleep at most maxSleep, then look at the wall clock again", () => {
    expect(nextStep({ login: live(expiresAt), now: T0, reauthNeeded: false }, settings)).toEqual({ act: false, wakeAt: T0 + MIN });
  });
  test("close to the window: wake exactly when it opens", () => {
    const now = expiresAt - 4 * MIN - 10 * S;
    expect(nextStep({ login: live(expiresAt), now, reauthNeeded: false }, settings)).toEqual({ act: false, wakeAt: expiresAt - 4 * MIN });
  });
  test("in the window: act, then retry every retryMs", () => {
    const now = expiresAt - 4 * MIN;
    expect(nextStep({ login: live(expiresAt), now, reauthNeeded: false }, settings)).toEqual({ act: true, wakeAt: now + 30 * S });
    expect(nextStep({ login: live(expiresAt), now: now + 10 * S, lastTriggerAt: now, reauthNeeded: false }, settings)).toEqual({ act: false, wakeAt: now + 30 * S });
    expect(nextStep({ login: live(expiresAt), now: now + 30 * S, lastTriggerAt: now, reauthNeeded: false }, settings).act).toBe(true);
  });
  test("after a suspend or a forward clock jump: the first look acts at once", () => {
    // Slept at T0 for "one minute"; the machine woke up 9 hours later: the token is expired.
    expect(nextStep({ login: live(expiresAt), now: T0 + 9 * HOUR, lastTriggerAt: T0 - 8 * HOUR, reauthNeeded: false }, settings).act).toBe(true);
  });
  test("a clock that jumped backwards does not make it wait for a trigger time in the future", () => {
    const now = expiresAt - 2 * MIN;
    expect(nextStep({ login: live(expiresAt), now, lastTriggerAt: now + HOUR, reauthNeeded: false }, settings).act).toBe(true);
  });
  test("long expired: slow retries", () => {
    const now = expiresAt + 2 * HOUR;
    expect(nextStep({ login: live(expiresAt), now, lastTriggerAt: now - MIN, reauthNeeded: false }, settings)).toEqual({ act: false, wakeAt: now + MIN });
    expect(nextStep({ login: live(expiresAt), now, lastTriggerAt: now - 5 * MIN, reauthNeeded: false }, settings).act).toBe(true);
  });
  test("a dead login is never triggered again (it would spend nothing but time); a blanked file neither", () => {
    expect(nextStep({ login: live(T0 + MIN), now: T0, reauthNeeded: true }, settings).act).toBe(false);
    expect(nextStep({ login: { kind: "blanked" }, now: T0, reauthNeeded: false }, settings).act).toBe(false);
  });
});

describe("reminders", () => {
  test("first time, then only every few hours", () => {
    expect(reminderDue(undefined, T0, 4 * HOUR)).toBe(true);
    expect(reminderDue(T0, T0 + 3 * HOUR, 4 * HOUR)).toBe(false);
    expect(reminderDue(T0, T0 + 4 * HOUR, 4 * HOUR)).toBe(true);
    expect(reminderDue(T0 + HOUR, T0, 4 * HOUR)).toBe(true); // clock went back
  });
});

describe("host invocation", () => {
  const trigger = { mode: "host" as const, command: "auth-status" as const, claude: "claude", timeoutSeconds: 60, env: {} };
  const serviceEnv = { PATH: "/usr/bin:/bin", HOME: "/root", HTTPS_PROXY: "http://p:3128", NO_PROXY: "localhost", NODE_EXTRA_CA_CERTS: "/ca.pem", AWS_SECRET: "x", ANTHROPIC_OAUTH_TOKEN: "sk-ant-oat01-x" };
  test("default layout: HOME/.claude needs no CLAUDE_CONFIG_DIR; only the listed variables pass", () => {
    const inv = hostInvocation(trigger, { credentials: "/home/u/.claude/.credentials.json", env: serviceEnv, runAs: { uid: 1000, gid: 1000, home: "/home/u" } });
    expect(inv.argv).toEqual(["claude", "auth", "status"]);
    expect(inv.env).toEqual({
      PATH: "/usr/bin:/bin",
      HOME: "/home/u",
      HTTPS_PROXY: "http://p:3128",
      NO_PROXY: "localhost",
      NODE_EXTRA_CA_CERTS: "/ca.pem",
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    });
    expect(inv.uid).toBe(1000);
  });
  test("another config dir: CLAUDE_CONFIG_DIR; prompt command", () => {
    const inv = hostInvocation({ ...trigger, command: "prompt" }, { credentials: "/srv/claude/.credentials.json", env: serviceEnv });
    expect(inv.env.CLAUDE_CONFIG_DIR).toBe("/srv/claude");
    expect(inv.env.HOME).toBe("/root");
    expect(inv.argv).toEqual(["claude", "-p", "say ok"]);
  });
});

describe("container invocation", () => {
  const trigger = { mode: "container" as const, command: "auth-status" as const, claude: "claude", container: "openclaw-cli", docker: "docker", baseUrlOverride: false as boolean | string, timeoutSeconds: 60, env: {} };
  test("docker exec [-u USER] [-e ANTHROPIC_BASE_URL=…] CONTAINER claude auth status; docker gets its own variables only", () => {
    const inv = containerInvocation({ ...trigger, user: "node", baseUrlOverride: true }, { PATH: "/bin", HOME: "/root", DOCKER_HOST: "unix:///d.sock", HTTPS_PROXY: "http://p" });
    expect(inv.argv).toEqual([
      "docker", "exec", "-u", "node", "-e", "ANTHROPIC_BASE_URL=https://api.anthropic.com",
      "-e", "DISABLE_AUTOUPDATER=1", "-e", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
      "openclaw-cli", "claude", "auth", "status",
    ]);
    expect(inv.env).toEqual({ PATH: "/bin", HOME: "/root", DOCKER_HOST: "unix:///d.sock" });
  });
  test("no override unless asked", () => {
    expect(containerInvocation(trigger, {}).argv.join(" ")).not.toContain("ANTHROPIC_BASE_URL");
  });
});

describe("who runs the CLI", () => {
  const passwd = parsePasswd("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n# comment\n");
  const D = "/home/alice/.claude";
  test("root runs it as the owner of the login's directory", () => {
    expect(chooseUser(0, undefined, { uid: 1000, gid: 1000 }, passwd, D)).toEqual({ ok: true, runAs: passwd[1] });
    expect(chooseUser(0, undefined, { uid: 0, gid: 0 }, passwd, D)).toEqual({ ok: true });
  });
  test("a configured user must be that owner; an unknown one; a non-root service cannot switch", () => {
    expect(chooseUser(0, "alice", { uid: 1000, gid: 1000 }, passwd, D)).toEqual({ ok: true, runAs: passwd[1] });
    const mismatch = chooseUser(0, "root", { uid: 1000, gid: 1000 }, passwd, D);
    expect(mismatch.ok).toBe(false);
    expect(!mismatch.ok && mismatch.message).toContain("belongs to alice");
    expect(chooseUser(0, "bob", { uid: 1000, gid: 1000 }, passwd, D).ok).toBe(false);
    expect(chooseUser(1000, "root", { uid: 0, gid: 0 }, passwd, D).ok).toBe(false);
    expect(chooseUser(1000, undefined, { uid: 0, gid: 0 }, passwd, D).ok).toBe(false);
    expect(chooseUser(1000, undefined, { uid: 1000, gid: 1000 }, passwd, D)).toEqual({ ok: true });
  });
});

describe("direct refresh: request, answer, file", () => {
  test("the CLI's request body", () => {
    expect(JSON.parse(tokenRequestBody("sk-ant-ort01-r"))).toEqual({
      grant_type: "refresh_token",
      refresh_token: "sk-ant-ort01-r",
      client_id: CLIENT_ID,
      scope: "user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload user:plugins",
    });
  });
  test("answers", () => {
    const ok = parseTokenAnswer(200, JSON.stringify({ access_token: "A", refresh_token: "R", expires_in: 28800, scope: "user:inference user:profile" }), null, T0);
    expect(ok).toEqual({ kind: "ok", tokens: { accessToken: "A", refreshToken: "R", expiresAt: T0 + 8 * HOUR, scopes: ["user:inference", "user:profile"] }, warning: undefined });
    expect(parseTokenAnswer(200, JSON.stringify({ access_token: "A", refresh_token: "R", expires_in: 60, scope: "user:profile" }), null, T0)).toMatchObject({ kind: "ok", warning: expect.stringContaining("user:inference") });
    expect(parseTokenAnswer(400, JSON.stringify({ error: "invalid_grant" }), null, T0).kind).toBe("dead");
    expect(parseTokenAnswer(429, "{}", "7", T0)).toEqual({ kind: "retry", message: "token endpoint answered 429", retryAfterMs: 7000 });
    expect(parseTokenAnswer(503, "<html>", null, T0).kind).toBe("retry");
    expect(parseTokenAnswer(401, JSON.stringify({ error: "invalid_client" }), null, T0)).toEqual({ kind: "rejected", message: "token endpoint answered 401 invalid_client" });
    expect(parseTokenAnswer(200, "{}", null, T0).kind).toBe("rejected");
  });
  test("errors never quote the body (it may hold tokens)", () => {
    const answer = parseTokenAnswer(400, JSON.stringify({ error: "sk-ant-oat01-LEAK", detail: "sk-ant-ort01-LEAK" }), null, T0);
    expect(JSON.stringify(answer)).not.toContain("LEAK");
  });
  test("merge keeps every other key; no refresh token in the answer keeps the old one", () => {
    const file = JSON.stringify({ claudeAiOauth: { accessToken: "a", refreshToken: "r", expiresAt: 1, scopes: [], subscriptionType: "max", rateLimitTier: "t" }, mcpOAuth: { x: 1 } });
    const merged = JSON.parse(mergeTokens(file, { accessToken: "A", refreshToken: "", expiresAt: 2, scopes: ["user:inference"] }));
    expect(merged).toEqual({ claudeAiOauth: { accessToken: "A", refreshToken: "r", expiresAt: 2, scopes: ["user:inference"], subscriptionType: "max", rateLimitTier: "t" }, mcpOAuth: { x: 1 } });
  });
  test("backoff: doubling with jitter, capped; Retry-After wins when longer", () => {
    expect(directBackoffMs(1, () => 0.5)).toBe(1000);
    expect(directBackoffMs(3, () => 0.5)).toBe(4000);
    expect(directBackoffMs(20, () => 0.5)).toBe(60_000);
    expect(directBackoffMs(1, () => 0)).toBe(750);
    expect(directBackoffMs(1, () => 0.5, 9000)).toBe(9000);
    expect(parseRetryAfter("Fri, 01 May 2026 12:00:10 GMT", T0)).toBe(10_000);
    expect(parseRetryAfter("soon", T0)).toBeUndefined();
  });
  test("a lock is stale after the CLI's timeout", () => {
    expect(isStale(T0, T0 + 10_000, 10_000)).toBe(false);
    expect(isStale(T0, T0 + 10_001, 10_000)).toBe(true);
  });
});

describe("dead login", () => {
  test("the flag goes into the OpenClaw directory", () => {
    expect(defaultFlagFile({ stateDir: "/s", targets: [{ kind: "openclaw-auth-profiles", path: "/opt/oc/agents/main/agent/auth-profiles.json" } as never] })).toBe("/opt/oc/REAUTH_NEEDED");
    expect(defaultFlagFile({ stateDir: "/s", targets: [{ kind: "openclaw-oauth-json", path: "/opt/oc/credentials/oauth.json" } as never] })).toBe("/opt/oc/REAUTH_NEEDED");
    expect(defaultFlagFile({ stateDir: "/s", targets: [{ kind: "env-file", path: "/opt/oc/.env" } as never] })).toBe("/opt/oc/REAUTH_NEEDED");
    expect(defaultFlagFile({ stateDir: "/s", targets: [{ kind: "openclaw-cli" } as never] })).toBe("/s/REAUTH_NEEDED");
  });
  test("what to run, where the CLI lives", () => {
    expect(loginCommand({ credentials: "/root/.claude/.credentials.json", trigger: { mode: "host" } as never })).toBe("claude auth login as the user who owns it (credentials: /root/.claude/.credentials.json)");
    expect(loginCommand({ credentials: "/x/.credentials.json", trigger: { mode: "container", container: "cli", user: "node", claude: "claude" } as never })).toBe("docker exec -it -u node cli claude auth login");
    expect(flagText({ reason: "r", since: "s", fix: "f", credentials: "c" })).toContain("Fix: f");
  });
  test("a new login replaces a dead one; the same refresh token does not", () => {
    expect(isNewLogin(live(T0, "a", "r"), BLANK)).toBe(true);
    expect(isNewLogin(live(T0, "a", "r"), fingerprint("r"))).toBe(false);
    expect(isNewLogin(live(T0, "a", "r2"), fingerprint("r"))).toBe(true);
    expect(isNewLogin({ kind: "blanked" }, BLANK)).toBe(false);
    expect(stillDead(live(T0, "a", "r"), { needed: true, deadRefreshFingerprint: fingerprint("r") })).toBe(true);
    expect(stillDead(live(T0, "a", "r"), undefined)).toBe(false);
  });
});

describe("exit codes", () => {
  test("one per outcome, none clashing", () => {
    const codes = [
      checkExitCode({ status: "ok", expiresAt: 0, dueAt: 0 }),
      checkExitCode({ status: "refreshed", expiresAt: 0, fingerprint: "", detail: "" }),
      checkExitCode({ status: "transient", message: "" }),
      checkExitCode({ status: "reauth", message: "", deadRefreshFingerprint: "" }),
      checkExitCode({ status: "misconfigured", message: "" }),
    ];
    expect(codes).toEqual([0, 5, 6, 7, 2]);
  });
});

describe("config: trigger, refresh, notify", () => {
  const base = { targets: [{ kind: "env-file", path: "/x/.env" }] };
  const parse = (extra: object) => parseConfig(JSON.stringify({ ...base, ...extra }), "/etc/oauth-sync/config.json");
  test("defaults: host mode, auth status, a 4-minute window, no webhooks", () => {
    const r = parse({});
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.config.trigger).toEqual({ mode: "host", command: "auth-status", claude: "claude", timeoutSeconds: 60, env: {} });
    expect(r.config.refresh).toEqual({ windowSeconds: 240, retrySeconds: 30, slowRetrySeconds: 300, slowAfterSeconds: 3600, confirmTries: 3 });
    expect(r.config.notify).toEqual({ webhooks: [], timeoutSeconds: 10, retries: 2, reminderHours: 4, failureThreshold: 3 });
  });
  test("the window must stay inside the CLI's 5 minutes", () => {
    const r = parse({ refresh: { windowSeconds: 600 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join()).toContain("refresh.windowSeconds");
  });
  test("container mode needs a container; webhooks need a known format", () => {
    expect(parse({ trigger: { mode: "container" } }).ok).toBe(false);
    expect(parse({ trigger: { mode: "container", container: "c", baseUrlOverride: true } }).ok).toBe(true);
    expect(parse({ notify: { webhooks: [{ url: "https://h/x", format: "teams" }] } }).ok).toBe(false);
    expect(parse({ trigger: { mode: "direct" } }).ok).toBe(true);
  });
  test("relative flag file and host paths resolve against the config's directory", () => {
    const r = parse({ refresh: { flagFile: "flag" }, trigger: { mode: "host", home: "h" } });
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.config.refresh.flagFile).toBe("/etc/oauth-sync/flag");
    expect(r.config.trigger).toMatchObject({ home: "/etc/oauth-sync/h" });
  });
});
