import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";
import { authorizedKeysLine, forcedCommandProblem, hostKeysIn, keyFingerprint, mergeAuthorizedKeys, mergeKnownHosts, parsePublicKey } from "../../src/install/ssh-keys.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { receiveExitCode } from "../../src/commands/_edge.ts";
import { createAlerts } from "../../src/notify/alerts.ts";
import type { NotifyEvent } from "../../src/notify/event.ts";
import type { ProcessRunner, RunOptions } from "../../src/process/run.ts";
import { formatAnswer, parseAnswer } from "../../src/push/answer.ts";
import { sshArgv } from "../../src/push/argv.ts";
import { duplicateKey, encodeTokenMessage, MAX_MESSAGE_BYTES, MAX_PUSHED_LIFETIME_MS, parseMessage, PROBE_MESSAGE } from "../../src/push/message.ts";
import { explainSshError } from "../../src/push/push-once.ts";
import { receive as receiveAnswer, type ReceiveDeps } from "../../src/pass/receive.ts";
import { receiverProblem } from "../../src/push/targets.ts";
import { recordPush } from "../../src/push/record.ts";
import { createPushScheduler, pushEverywhere } from "../../src/push/scheduler.ts";
import { sshTargetSchema, type SshTargetConfig } from "../../src/config/ssh.ts";
import { waitUntil } from "../support/wait.ts";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const HOUR = 3_600_000;
const target = (extra: Record<string, unknown> = {}): SshTargetConfig =>
  sshTargetSchema.parse({ kind: "ssh", host: "gw2.example.com", user: "root", identityFile: "/etc/oauth-sync/ssh/id_ed25519", knownHostsFile: "/etc/oauth-sync/ssh/known_hosts", ...extra });

describe("the push message", () => {
  test("carries the access token, expiry, subscription and fingerprint, and never the refresh token", () => {
    const accessToken = fakeToken();
    const refreshToken = fakeToken("ort");
    const line = encodeTokenMessage({ accessToken, refreshToken, expiresAt: NOW + HOUR, subscriptionType: "max" } as never);
    expect(line.endsWith("\n")).toBe(true);
    expect(line).not.toContain(refreshToken);
    expect(line).not.toContain("refresh");
    expect(JSON.parse(line)).toEqual({ v: 1, kind: "token", accessToken, expiresAt: NOW + HOUR, subscriptionType: "max", fingerprint: fingerprint(accessToken) });
    const parsed = parseMessage(line, NOW);
    expect(parsed).toEqual({ ok: true, message: { kind: "token", fingerprint: fingerprint(accessToken), credentials: { accessToken, expiresAt: NOW + HOUR, subscriptionType: "max" } } });
    expect(line.length).toBeLessThan(MAX_MESSAGE_BYTES / 4);
  });

  test("a probe", () => {
    expect(parseMessage(PROBE_MESSAGE, NOW)).toEqual({ ok: true, message: { kind: "probe" } });
  });

  const token = fakeToken();
  const base = { v: 1, kind: "token", accessToken: token, expiresAt: NOW + HOUR, subscriptionType: "max", fingerprint: fingerprint(token) };
  const refused: Array<[string, string, string]> = [
    ["empty", "", "malformed"],
    ["not JSON", "{ not json", "malformed"],
    ["an array", "[]", "malformed"],
    ["two lines", `${JSON.stringify(base)}\n${JSON.stringify(base)}\n`, "malformed"],
    ["a CR inside", `${JSON.stringify(base)}\r\n`, "malformed"],
    ["a refreshToken field", JSON.stringify({ ...base, refreshToken: "x" }), "refresh-token"],
    ["a refresh token anywhere", JSON.stringify({ ...base, subscriptionType: fakeToken("ort") }), "refresh-token"],
    ["an unknown key", JSON.stringify({ ...base, path: "/etc/passwd" }), "malformed"],
    ["another version", JSON.stringify({ ...base, v: 2 }), "malformed"],
    ["a newline in the token", JSON.stringify({ ...base, accessToken: `${token}\nX=1`, fingerprint: fingerprint(`${token}\nX=1`) }), "malformed"],
    ["not a Claude token", JSON.stringify({ ...base, accessToken: "hello-world-hello-world-hello-world", fingerprint: fingerprint("hello-world-hello-world-hello-world") }), "malformed"],
    ["a huge token", JSON.stringify({ ...base, accessToken: `sk-ant-oat01-${"A".repeat(1200)}` }), "malformed"],
    ["a fingerprint that does not match", JSON.stringify({ ...base, fingerprint: "000000000000" }), "malformed"],
    ["expiry in seconds", JSON.stringify({ ...base, expiresAt: Math.floor((NOW + HOUR) / 1000) }), "malformed"],
    ["expiry not a number", JSON.stringify({ ...base, expiresAt: "tomorrow" }), "malformed"],
    ["expired", JSON.stringify({ ...base, expiresAt: NOW - 1 }), "expired"],
    ["a subscription type with spaces", JSON.stringify({ ...base, subscriptionType: "max; rm -rf /" }), "malformed"],
    // JSON.parse keeps the last of a repeated key: the refresh-token check saw "max", a reader keeping the first sees the token.
    ["a key twice, the first a refresh token", JSON.stringify(base).replace("{", `{"subscriptionType":"${fakeToken("ort")}",`), "malformed"],
    ["a key twice, spelled with an escape", JSON.stringify(base).replace("{", `{"\\u0061ccessToken":"${fakeToken()}",`), "malformed"],
    ["a token dated 2099 (it would pin the receiver)", JSON.stringify({ ...base, expiresAt: Date.UTC(2099, 0, 1) }), "too-far"],
    ["a token beyond the longest real lifetime", JSON.stringify({ ...base, expiresAt: NOW + MAX_PUSHED_LIFETIME_MS + 60_000 }), "too-far"],
    ["force: false (only true means anything)", JSON.stringify({ ...base, force: false }), "malformed"],
  ];
  for (const [name, text, reason] of refused) {
    test(`refused: ${name}`, () => {
      const result = parseMessage(text, NOW);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).toBe(reason as never);
        expect(result.message).not.toContain(token);
      }
    });
  }
});

describe("the push message's limits", () => {
  test("a one-year token (claude setup-token) is within the cap; the cap is one year and a day", () => {
    const accessToken = fakeToken();
    expect(parseMessage(encodeTokenMessage({ accessToken, expiresAt: NOW + 365 * 24 * HOUR }), NOW).ok).toBe(true);
    expect(MAX_PUSHED_LIFETIME_MS).toBe(366 * 24 * HOUR);
  });

  test("a forced push (sync --force) says so; a plain one does not", () => {
    const accessToken = fakeToken();
    const forced = parseMessage(encodeTokenMessage({ accessToken, expiresAt: NOW + HOUR }, { force: true }), NOW);
    expect(forced).toMatchObject({ ok: true, message: { kind: "token", force: true } });
    const plain = parseMessage(encodeTokenMessage({ accessToken, expiresAt: NOW + HOUR }), NOW);
    expect(plain.ok && plain.message.kind === "token" && "force" in plain.message).toBe(false);
  });

  test("duplicateKey finds a repeated key per object, however it is spelled, and nothing else", () => {
    expect(duplicateKey('{"a":1,"a":2}')).toBe("a");
    expect(duplicateKey('{"a":1,"\\u0061":2}')).toBe("a");
    expect(duplicateKey('{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4}]}}')).toBeUndefined();
    expect(duplicateKey('{"x":"{\\"a\\":1,\\"a\\":2}","y":"a"}')).toBeUndefined();
    expect(duplicateKey('{"b":{"c":1,"c":2}}')).toBe("c");
    expect(duplicateKey('[1,"a","a",{"k":[],"k2":{}}]')).toBeUndefined();
  });
});

describe("the receiver's answer, read as hostile data", () => {
  test("round trip", () => {
    const answer = { status: "written" as const, fingerprint: "0123456789ab", expiresAt: NOW, detail: "2 of 2 target(s) written" };
    expect(parseAnswer(`log line\n${formatAnswer(answer)}`)).toEqual(answer);
  });
  test("unknown status, bad fingerprint, not ours: ignored; control characters stripped, detail cut", () => {
    expect(parseAnswer('{"receiver":"oauth-sync","status":"pwned","detail":"x"}')).toBeUndefined();
    expect(parseAnswer('{"receiver":"oauth-sync","status":"written","fingerprint":"sk-ant-oat01-xyz","detail":"x"}')).toBeUndefined();
    expect(parseAnswer('{"receiver":"other","status":"written","detail":"x"}')).toBeUndefined();
    expect(parseAnswer("uid=0(root) gid=0(root)")).toBeUndefined();
    const long = parseAnswer(JSON.stringify({ receiver: "oauth-sync", status: "failed", detail: `a\u001b[31mb${"x".repeat(1000)}` }));
    expect(long?.detail.startsWith("a [31mb")).toBe(true);
    expect(long?.detail.length).toBe(300);
  });
});

describe("the ssh command line", () => {
  test("the safe options, oauth-sync's own key and known_hosts, no config file, nothing secret", () => {
    const argv = sshArgv(target({ port: 2222 }));
    const text = argv.join(" ");
    for (const option of ["BatchMode=yes", "StrictHostKeyChecking=yes", "IdentitiesOnly=yes", "UserKnownHostsFile=/etc/oauth-sync/ssh/known_hosts", "GlobalKnownHostsFile=/dev/null", "IdentityAgent=none", "ForwardAgent=no", "ClearAllForwardings=yes", "ConnectTimeout=5"]) {
      expect(argv).toContain(option);
    }
    expect(argv.slice(0, 3)).toEqual(["ssh", "-F", "none"]);
    expect(argv.slice(-8)).toEqual(["-p", "2222", "-l", "root", "-T", "--", "gw2.example.com", "oauth-sync receive"]);
    expect(argv[argv.indexOf("-i") + 1]).toBe("/etc/oauth-sync/ssh/id_ed25519");
    expect(text).not.toContain("sk-ant");
  });
  test("a host or user that ssh could read as an option, a relative key, an unsafe option: refused by the schema", () => {
    const bad = (extra: Record<string, unknown>) => sshTargetSchema.safeParse({ kind: "ssh", host: "h", user: "root", identityFile: "/k", knownHostsFile: "/kh", ...extra }).success;
    expect(bad({})).toBe(true);
    expect(bad({ host: "-oProxyCommand=sh" })).toBe(false);
    expect(bad({ user: "-oProxyCommand=sh" })).toBe(false);
    expect(bad({ identityFile: "id_ed25519" })).toBe(false);
    expect(bad({ knownHostsFile: undefined })).toBe(false);
    expect(bad({ options: { stricthostkeychecking: "no" } })).toBe(false);
    expect(bad({ options: { ProxyCommand: "nc" } })).toBe(false);
    expect(bad({ options: { HostName: "elsewhere.example.com" } })).toBe(false);
    expect(bad({ options: { SendEnv: "ANTHROPIC_OAUTH_TOKEN" } })).toBe(false);
    expect(bad({ options: { ProxyJump: "bastion.example.com" } })).toBe(true);
    expect(bad({ options: { ProxyJump: "a b" } })).toBe(false);
  });
  test("ssh's failures in words", () => {
    const t = target();
    expect(explainSshError("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.", t)).toContain("does not match /etc/oauth-sync/ssh/known_hosts");
    expect(explainSshError("Host key verification failed.\n", t)).toContain("refused, nothing sent");
    expect(explainSshError("root@gw2.example.com: Permission denied (publickey).", t)).toContain("is the authorized_keys line in place?");
    expect(explainSshError("ssh: connect to host gw2.example.com port 22: Connection refused", t)).toContain("refused the connection");
    expect(explainSshError("ssh: connect to host gw2.example.com port 22: Connection timed out", t)).toContain("did not answer within 5 s");
  });
});

describe("the per-host record", () => {
  const answer = { status: "written" as const, fingerprint: "aaaaaaaaaaaa", expiresAt: NOW + HOUR, detail: "1 of 1 target(s) written" };
  test("held: fingerprint, expiry, time of the push; the error and the failures cleared", () => {
    const previous = { fingerprint: "bbbbbbbbbbbb", lastError: "x", lastErrorAt: "t", failures: 3, nextRetryAt: "t" };
    expect(recordPush(previous, { kind: "held", answer, detail: "written: 1 of 1" }, "aaaaaaaaaaaa", NOW + HOUR, NOW)).toEqual({
      fingerprint: "aaaaaaaaaaaa",
      expiresAt: NOW + HOUR,
      syncedAt: new Date(NOW).toISOString(),
      failures: 0,
      lastAnswer: "written: 1 of 1",
    });
  });
  test("a failure keeps what the host held, counts, and says when the retry is due", () => {
    const previous = { fingerprint: "bbbbbbbbbbbb", syncedAt: "earlier", failures: 1 };
    const next = recordPush(previous, { kind: "retry", error: "down" }, "aaaaaaaaaaaa", NOW + HOUR, NOW, 4000);
    expect(next).toEqual({ fingerprint: "bbbbbbbbbbbb", syncedAt: "earlier", failures: 2, lastError: "down", lastErrorAt: new Date(NOW).toISOString(), nextRetryAt: new Date(NOW + 4000).toISOString() });
  });
  test("a reload that failed there: the token is held, the error stays until the retry works", () => {
    const next = recordPush(undefined, { kind: "retry", answer: { ...answer, status: "reload-failed" }, error: "reload" }, "aaaaaaaaaaaa", NOW + HOUR, NOW, 1000);
    expect(next).toMatchObject({ fingerprint: "aaaaaaaaaaaa", lastError: "reload", failures: 1 });
  });
});

describe("keys for install --push and --receiver", () => {
  const pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPZMn4u3JNPFtt2wRptOngYt4TBGt2uZh6rk8eDRY6Dh oauth-sync@vm";
  test("the authorized_keys line: restrict and the forced command; an older line for the same key replaced", () => {
    const key = parsePublicKey(pub)!;
    const line = authorizedKeysLine(key, "/usr/local/bin/oauth-sync receive");
    expect(line).toBe(`restrict,command="/usr/local/bin/oauth-sync receive" ${pub}`);
    const existing = `ssh-rsa AAAAB3Nza other@host\nrestrict,command="/old/oauth-sync receive" ${pub}\n`;
    expect(mergeAuthorizedKeys(existing, key, line)).toBe(`ssh-rsa AAAAB3Nza other@host\n${line}\n`);
    expect(parsePublicKey("restrict ssh-ed25519 AAAA")).toBeUndefined();
    expect(parsePublicKey('ssh-ed25519 AAAA"; rm')).toBeUndefined();
  });
  test("a forced command with a quote, or one that is not `oauth-sync receive`, is refused", () => {
    expect(forcedCommandProblem("/usr/local/bin/oauth-sync receive --config /etc/x.json")).toBeUndefined();
    expect(forcedCommandProblem('oauth-sync receive" ,no-restrict')).toContain("quote");
    expect(forcedCommandProblem("/bin/sh")).toContain("oauth-sync receive");
  });
  test("known_hosts: the host's keys found by [host]:port and replaced, not doubled", () => {
    const key = pub.split(" ").slice(0, 2).join(" ");
    const scanned = `# 127.0.0.2:2222 SSH-2.0-OpenSSH_9.2\n[127.0.0.2]:2222 ${key}\n`;
    const keys = hostKeysIn(scanned, "[127.0.0.2]:2222");
    expect(keys).toEqual([{ type: "ssh-ed25519", blob: key.split(" ")[1]!, fingerprint: keyFingerprint(key.split(" ")[1]!) }]);
    expect(hostKeysIn(scanned, "127.0.0.2")).toEqual([]);
    const merged = mergeKnownHosts(`[127.0.0.2]:2222 ssh-ed25519 OLDKEY\nother ssh-ed25519 KEEP\n`, "[127.0.0.2]:2222", keys);
    expect(merged).toBe(`other ssh-ed25519 KEEP\n[127.0.0.2]:2222 ${key}\n`);
  });
  test.skipIf(spawnSync("sh", ["-c", "command -v ssh-keygen"]).status !== 0)("the fingerprint is OpenSSH's own", () => {
    const dir = mkdtempSync(join(tmpdir(), "oauth-sync-keys-"));
    try {
      spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
      const text = readFileSync(join(dir, "k.pub"), "utf8");
      const theirs = spawnSync("ssh-keygen", ["-lf", join(dir, "k.pub")], { encoding: "utf8" }).stdout.split(" ")[1];
      expect(keyFingerprint(parsePublicKey(text)!.blob)).toBe(theirs!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the push scheduler (an injected process runner in place of ssh)", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function setup(behaviour: (host: string, call: number, options: RunOptions) => Promise<{ code: number; stdout: string; stderr: string }>) {
    const stateDir = mkdtempSync(join(tmpdir(), "oauth-sync-push-"));
    dirs.push(stateDir);
    const calls: Array<{ host: string; at: number; argv: string[]; stdin?: string }> = [];
    const perHost = new Map<string, number>();
    const run: ProcessRunner = async (argv, options) => {
      const host = argv.at(-2)!;
      const call = (perHost.get(host) ?? 0) + 1;
      perHost.set(host, call);
      calls.push({ host, at: Date.now(), argv, stdin: options.stdin });
      return { ...(await behaviour(host, call, options)), timedOut: false };
    };
    const events: NotifyEvent[] = [];
    // Wired as the daemon wires it: each push's outcome to the alerts keeper.
    const alerts = createAlerts({ now: Date.now, notify: async (e) => void events.push(e), settings: () => ({ failureThreshold: 2, reminderHours: 4 }) });
    const scheduler = createPushScheduler({
      run,
      now: Date.now,
      random: () => 0,
      stateDir: () => stateDir,
      onOutcome: ({ id, result }) => alerts.record(`push:${id}`, result.kind === "held" ? { ok: true } : { ok: false, error: result.error }),
    });
    const state = () => JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8"));
    return { scheduler, calls, events, state };
  }
  const ok = (options: RunOptions) => {
    const m = JSON.parse(options.stdin!);
    return { code: 0, stdout: formatAnswer({ status: "written", fingerprint: m.fingerprint, expiresAt: m.expiresAt, detail: "1 of 1 target(s) written" }), stderr: "" };
  };
  const credentials = () => ({ accessToken: fakeToken(), refreshToken: fakeToken("ort"), expiresAt: Date.now() + HOUR, subscriptionType: "max" });

  test("sync --force: every host gets the token marked as forced; a plain sync and the service's pushes never are", async () => {
    const { scheduler, calls } = setup(async (_host, _call, options) => ok(options));
    const c = credentials();
    const stateDir = mkdtempSync(join(tmpdir(), "oauth-sync-push-"));
    dirs.push(stateDir);
    const deps = { run: (async (argv: string[], options: RunOptions) => (calls.push({ host: argv.at(-2)!, at: Date.now(), argv, stdin: options.stdin }), { ...ok(options), timedOut: false })) as ProcessRunner, now: Date.now, stateDir: () => stateDir };
    await pushEverywhere([target({ host: "a" }), target({ host: "b" })], c, deps, { force: true });
    await pushEverywhere([target({ host: "a" })], c, deps);
    scheduler.offer([target({ host: "c" })], c);
    await scheduler.idle();
    expect(calls.map((call) => [call.host, JSON.parse(call.stdin!).force])).toEqual([
      ["a", true],
      ["b", true],
      ["a", undefined],
      ["c", undefined],
    ]);
    for (const call of calls) expect(call.stdin).not.toContain(c.refreshToken);
    await scheduler.stop();
  });

  test("a slow host does not delay the others; offer returns at once", async () => {
    const { scheduler, state } = setup(async (host, _call, options) => {
      if (host === "slow") await Bun.sleep(1500);
      return ok(options);
    });
    const c = credentials();
    const started = Date.now();
    scheduler.offer([target({ host: "slow" }), target({ host: "fast" })], c);
    expect(Date.now() - started).toBeLessThan(50);
    await waitUntil("the state file", () => existsSync(join(dirs[0]!, "state.json")), { timeoutMs: 1000, intervalMs: 10, onTimeout: "continue" });
    await Bun.sleep(100);
    expect(state().hosts["ssh:root@fast:22"].fingerprint).toBe(fingerprint(c.accessToken));
    expect(state().hosts["ssh:root@slow:22"]).toBeUndefined();
    await scheduler.idle();
    expect(state().hosts["ssh:root@slow:22"].fingerprint).toBe(fingerprint(c.accessToken));
    await scheduler.stop();
  });

  test("a host that is down is retried with backoff and notified after the threshold; the message never holds the refresh token", async () => {
    const { scheduler, calls, events, state } = setup(async (host, call, options) =>
      host === "down" && call <= 2 ? { code: 255, stdout: "", stderr: `ssh: connect to host ${host} port 22: Connection refused` } : ok(options),
    );
    const c = credentials();
    scheduler.offer([target({ host: "down" }), target({ host: "up" })], c);
    await waitUntil("three calls to the host that is down", () => calls.filter((x) => x.host === "down").length >= 3, { timeoutMs: 3000, intervalMs: 50, onTimeout: "continue" });
    await scheduler.idle();
    const down = calls.filter((x) => x.host === "down");
    expect(down).toHaveLength(3);
    // random() = 0: 0.75 s, then 1.5 s.
    expect(down[1]!.at - down[0]!.at).toBeGreaterThanOrEqual(700);
    expect(down[2]!.at - down[1]!.at).toBeGreaterThanOrEqual(1400);
    expect(events.map((e) => e.kind)).toEqual(["push-failing"]);
    expect(events[0]!.text).toContain("down:22 refused the connection");
    expect(state().hosts["ssh:root@down:22"]).toMatchObject({ fingerprint: fingerprint(c.accessToken), failures: 0 });
    for (const call of calls) {
      expect(call.stdin).not.toContain(c.refreshToken);
      expect(call.argv.join(" ")).not.toContain(c.accessToken);
    }
    // The same token offered again (a reconcile pass) pushes nothing more.
    const before = calls.length;
    scheduler.offer([target({ host: "down" }), target({ host: "up" })], c);
    await Bun.sleep(50);
    await scheduler.idle();
    expect(calls.length).toBe(before);
    await scheduler.stop();
  }, 10_000);

  test("a token the host refuses (it holds a newer one) is not retried", async () => {
    const { scheduler, calls, state } = setup(async () => ({ code: 3, stdout: formatAnswer({ status: "refused", fingerprint: "cccccccccccc", detail: "holds a newer token" }), stderr: "" }));
    scheduler.offer([target()], credentials());
    await Bun.sleep(50);
    await scheduler.idle();
    await Bun.sleep(1200);
    expect(calls).toHaveLength(1);
    expect(state().hosts["ssh:root@gw2.example.com:22"]).toMatchObject({ lastError: "receiver refused the token: holds a newer token" });
    await scheduler.stop();
  });
});

describe("receive (this host's own targets, real files)", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function receiver(extra: Record<string, unknown> = {}): { config: Config; env: string; stateDir: string } {
    const dir = mkdtempSync(join(tmpdir(), "oauth-sync-receive-"));
    dirs.push(dir);
    const env = join(dir, "openclaw/.env");
    const parsed = parseConfig(JSON.stringify({ source: "push", stateDir: join(dir, "state"), targets: [{ kind: "env-file", path: env }], ...extra }), join(dir, "config.json"));
    if (!parsed.ok) throw new Error(parsed.errors.join("; "));
    return { config: parsed.config, env, stateDir: join(dir, "state") };
  }
  const receive = async (config: Config, text: string, d: ReceiveDeps) => {
    const answer = await receiveAnswer(config, text, d);
    return { code: receiveExitCode(answer), answer };
  };
  const deps = { now: Date.now, run: (async () => ({ code: 0, stdout: "", stderr: "", timedOut: false })) as ProcessRunner, reload: { run: (async () => ({ code: 0, stdout: "", stderr: "", timedOut: false })) as ProcessRunner, now: Date.now, sleep: Bun.sleep }, sleep: Bun.sleep };

  test("writes, then says unchanged; an older token is refused and nothing is written", async () => {
    const r = receiver();
    const token = fakeToken();
    const first = await receive(r.config, encodeTokenMessage({ accessToken: token, expiresAt: Date.now() + 2 * HOUR }), deps);
    expect(first).toMatchObject({ code: 0, answer: { status: "written", fingerprint: fingerprint(token) } });
    expect(readFileSync(r.env, "utf8")).toBe(`ANTHROPIC_OAUTH_TOKEN=${token}\n`);
    expect((await receive(r.config, encodeTokenMessage({ accessToken: token, expiresAt: Date.now() + 2 * HOUR }), deps)).answer.status).toBe("unchanged");
    const state = readFileSync(join(r.stateDir, "state.json"), "utf8");
    const older = await receive(r.config, encodeTokenMessage({ accessToken: fakeToken(), expiresAt: Date.now() + HOUR }), deps);
    expect(older).toMatchObject({ code: 3, answer: { status: "refused", fingerprint: fingerprint(token) } });
    expect(older.answer.detail).toContain("holds a newer token");
    expect(readFileSync(r.env, "utf8")).toContain(token);
    expect(readFileSync(join(r.stateDir, "state.json"), "utf8")).toBe(state);
  });

  test("a foreign far-future token is refused; one within a year pins, and a forced push from the source resets it", async () => {
    const r = receiver();
    const legit = { accessToken: fakeToken(), expiresAt: Date.now() + 8 * HOUR };
    expect((await receive(r.config, encodeTokenMessage(legit), deps)).code).toBe(0);
    // 2099: refused outright, nothing written, the state untouched.
    const state = readFileSync(join(r.stateDir, "state.json"), "utf8");
    const far = await receive(r.config, encodeTokenMessage({ accessToken: fakeToken(), expiresAt: Date.UTC(2099, 0, 1) }), deps);
    expect(far).toMatchObject({ code: 3, answer: { status: "refused" } });
    expect(far.answer.detail).toContain("beyond the longest real token lifetime");
    expect(readFileSync(join(r.stateDir, "state.json"), "utf8")).toBe(state);
    expect(readFileSync(r.env, "utf8")).toContain(legit.accessToken);
    // Within the cap (a year) a foreign token still out-lives every honest push...
    const foreign = { accessToken: fakeToken(), expiresAt: Date.now() + 300 * 24 * HOUR };
    expect((await receive(r.config, encodeTokenMessage(foreign), deps)).code).toBe(0);
    const next = { accessToken: fakeToken(), expiresAt: Date.now() + 9 * HOUR };
    const refused = await receive(r.config, encodeTokenMessage(next), deps);
    expect(refused).toMatchObject({ code: 3, answer: { status: "refused" } });
    expect(refused.answer.detail).toContain("run `oauth-sync sync --force` on the source");
    // ...until the operator runs `sync --force` on the source: the forced push replaces it, state and targets.
    const forced = await receive(r.config, encodeTokenMessage(next, { force: true }), deps);
    expect(forced).toMatchObject({ code: 0, answer: { status: "written", fingerprint: fingerprint(next.accessToken) } });
    expect(readFileSync(r.env, "utf8")).toBe(`ANTHROPIC_OAUTH_TOKEN=${next.accessToken}\n`);
    expect(JSON.parse(readFileSync(join(r.stateDir, "state.json"), "utf8")).source).toMatchObject({ fingerprint: fingerprint(next.accessToken), expiresAt: next.expiresAt });
    // And the honest pushes that follow are taken as usual.
    const after = { accessToken: fakeToken(), expiresAt: Date.now() + 10 * HOUR };
    expect((await receive(r.config, encodeTokenMessage(after), deps)).code).toBe(0);
  });

  test("a failed reload is owed and paid by the next push, even of the same token", async () => {
    const r = receiver({ gateway: { kind: "command", command: ["/bin/true"] } });
    let fail = true;
    const reload = { ...deps.reload, run: (async () => ({ code: fail ? 1 : 0, stdout: "", stderr: "boom", timedOut: false })) as ProcessRunner };
    const message = encodeTokenMessage({ accessToken: fakeToken(), expiresAt: Date.now() + HOUR });
    expect(await receive(r.config, message, { ...deps, reload })).toMatchObject({ code: 4, answer: { status: "reload-failed" } });
    fail = false;
    const again = await receive(r.config, message, { ...deps, reload });
    expect(again).toMatchObject({ code: 0, answer: { status: "unchanged" } });
    expect(again.answer.detail).toContain("gateway: ran /bin/true");
  });

  test("receives at the same time take turns (a lock in the state dir): the newer token ends up everywhere", async () => {
    const r = receiver();
    const tokens = Array.from({ length: 6 }, (_, i) => ({ accessToken: fakeToken(), expiresAt: Date.now() + HOUR + i * 60_000 }));
    const results = await Promise.all([...tokens].reverse().map((t) => receive(r.config, encodeTokenMessage(t), deps)));
    expect(results.every((x) => x.code === 0 || (x.code === 3 && x.answer.detail.includes("holds a newer token")))).toBe(true);
    expect(readFileSync(r.env, "utf8")).toBe(`ANTHROPIC_OAUTH_TOKEN=${tokens.at(-1)!.accessToken}\n`);
    expect(existsSync(join(r.stateDir, "receive.lock"))).toBe(false);
  });

  test("a config that follows a credentials file, or pushes on, is not a receiver's", () => {
    const r = receiver();
    expect(receiverProblem(r.config)).toBeUndefined();
    expect(receiverProblem({ ...r.config, source: "credentials" })).toContain('"source": "push"');
    expect(receiverProblem({ ...r.config, targets: [...r.config.targets, target()] })).toContain("does not push on");
  });
});
