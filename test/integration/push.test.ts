/**
 * One login, several servers (issue 13), with real OpenSSH: two receivers (sshd on 127.0.0.2 as root and on
 * 127.0.0.3 as an unprivileged login), each with its own `oauth-sync receive` config and targets; the source runs the
 * compiled binary's `watch`. Needs root. The receivers run the binary copied by `install --receiver` (0755).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentialsJson, fakeToken, waitForToken } from "../../src/demo/sandbox.ts";
import { sshArgv } from "../../src/push/argv.ts";
import { sshTargetSchema } from "../../src/config/ssh.ts";
import { requireBinary, run, start, type Running } from "../support/binary.ts";
import { createBed, type Bed, type Receiver } from "../support/ssh-bed.ts";
import { waitUntil } from "../support/wait.ts";
import { hostTrigger } from "../support/refresh-bed.ts";
import { ensureClaudeCli, fakeAccessToken, fakeRefreshToken, startFakeOAuth, writeClaudeCredentials } from "../bed/claude.ts";

const HOUR = 3_600_000;
let bed: Bed;
let source: { dir: string; credentials: string; configPath: string; key: string; stateDir: string; env: string };
let watcher: Running | undefined;
let webhook: ReturnType<typeof Bun.serve> | undefined;
/** What the source's webhook received (format "json"). */
const hooks: Array<{ event: string; title: string; message: string }> = [];
/** Every refresh token the source's login ever held: none may reach a receiver. */
const refreshTokens: string[] = [];
const capture = () => join(bed.receivers[1]!.home, "received-messages");

function writeLogin(accessToken: string, expiresAt: number) {
  const refreshToken = fakeToken("ort");
  refreshTokens.push(refreshToken);
  const temp = `${source.credentials}.tmp.${randomBytes(4).toString("hex")}`;
  writeFileSync(temp, credentialsJson(accessToken, expiresAt, refreshToken), { mode: 0o600 });
  renameSync(temp, source.credentials);
}

const receiverFiles = (r: Receiver) => [r.targets.authProfiles, r.targets.env];
const fp = (token: string) => createHash("sha256").update(token).digest("hex").slice(0, 12);

function sshTarget(r: Receiver) {
  return sshTargetSchema.parse({ kind: "ssh", host: r.address, port: r.port, user: r.login, identityFile: source.key, knownHostsFile: join(source.dir, "ssh/known_hosts") });
}

/** ssh with oauth-sync's key, as the source would run it, with a chosen stdin and remote command. */
function sshWithKey(r: Receiver, stdin: string | Buffer, command = "oauth-sync receive") {
  const argv = sshArgv({ ...sshTarget(r), command });
  const result = spawnSync(argv[0]!, argv.slice(1), { input: stdin, encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file below a directory: path → size, mtime and digest, to prove nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (!entry.isFile()) continue;
    const info = statSync(path);
    out[path] = `${info.size}:${info.mtimeMs}:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
  }
  return out;
}

function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), "latin1"))
    .join("\n");
}

function ensureTmux() {
  if (Bun.which("tmux")) return;
  const apt = spawnSync("sh", ["-c", "apt-get install -y tmux || (apt-get update && apt-get install -y tmux)"], { encoding: "utf8" });
  if (apt.status !== 0 || !Bun.which("tmux")) throw new Error(`cannot install tmux: ${apt.stderr}`);
}

async function sourceState() {
  return JSON.parse(readFileSync(join(source.stateDir, "state.json"), "utf8"));
}


describe("push to other hosts over ssh (real OpenSSH, compiled binary)", () => {
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the push suite runs sshd and adds a login: run it as root");
    bed = await createBed();
    const dir = join(bed.root, "source");
    mkdirSync(join(dir, "claude"), { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    source = {
      dir,
      credentials: join(dir, "claude/.credentials.json"),
      configPath: join(dir, "config.json"),
      key: join(dir, "ssh/id_ed25519"),
      stateDir: join(dir, "state"),
      env: join(dir, "openclaw/.env"),
    };
    mkdirSync(join(dir, "openclaw"), { mode: 0o700 });
    writeFileSync(source.env, "ANTHROPIC_OAUTH_TOKEN=\n", { mode: 0o600 });
    webhook = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        hooks.push((await request.json()) as (typeof hooks)[number]);
        return new Response("ok");
      },
    });
    const config = {
      credentials: source.credentials,
      stateDir: source.stateDir,
      trigger: { mode: "none" },
      targets: [{ kind: "env-file", path: source.env }],
      notify: { webhooks: [{ url: `http://127.0.0.1:${webhook.port}/hook`, format: "json" }], failureThreshold: 2 },
    };
    writeFileSync(source.configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
    writeLogin(fakeToken(), Date.now() + 8 * HOUR);
    for (const r of bed.receivers) await r.start();
  }, 600_000);

  afterAll(async () => {
    await watcher?.stop();
    await webhook?.stop(true);
    await bed?.cleanup();
  });

  test("install --push makes the key, pins the host key, adds the target and prints the line; install --receiver installs it; the round trip works", async () => {
    const [r1, r2] = bed.receivers as [Receiver, Receiver];
    const pushArgs = (r: Receiver, remoteCommand: string, ...more: string[]) => [
      "install",
      "--push",
      `${r.login}@${r.address}`,
      "--port",
      String(r.port),
      "--key",
      source.key,
      "--config-path",
      source.configPath,
      "--host-fingerprint",
      r.hostFingerprint(),
      "--remote-command",
      remoteCommand,
      "--yes",
      ...more,
    ];
    const binary = join(bed.bin, "oauth-sync");
    // A wrong fingerprint is refused before anything is trusted.
    const wrong = await run(pushArgs(r1, `${binary} receive`, "--no-test").map((a) => (a === r1.hostFingerprint() ? "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" : a)));
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toContain("refused");
    expect(() => statSync(source.key)).toThrow(); // nothing made for an unconfirmed host
    // Not into a receiver's config either (a receiver does not push on).
    writeFileSync(r1.configPath, r1.configText, { mode: 0o600 });
    const intoReceiver = await run(pushArgs(r1, `${binary} receive`, "--no-test").map((a) => (a === source.configPath ? r1.configPath : a)));
    expect(intoReceiver.output).toContain('a receiving host\'s config ("source": "push")');
    expect(intoReceiver.code).not.toBe(0);
    expect(() => statSync(source.key)).toThrow();

    const first = await run(pushArgs(r1, `${binary} receive --config ${r1.configPath}`, "--no-test"));
    expect(first.code).toBe(0);
    expect((statSync(source.key).mode & 0o777).toString(8)).toBe("600");
    const line = first.stdout.split("\n").find((l) => l.startsWith("restrict,command="))!;
    expect(line).toBe(`restrict,command="${binary} receive --config ${r1.configPath}" ${readFileSync(`${source.key}.pub`, "utf8").trim()}`);
    // r1 (root): the test plays the admin who pastes the printed line; its config is prepared by hand.
    writeFileSync(r1.authorizedKeys, `${line}\n`, { mode: 0o644 });
    writeFileSync(r1.configPath, r1.configText, { mode: 0o600 });

    const second = await run(pushArgs(r2, `${binary} receive --config ${r2.configPath}`, "--no-test"));
    expect(second.code).toBe(0);
    // r2 (unprivileged login): install --receiver puts binary, config and key line in place, then probes as that login.
    const prepared = join(bed.root, "r2-prepared.json");
    writeFileSync(prepared, r2.configText, { mode: 0o600 });
    const receiver = await run([
      "install",
      "--receiver",
      "--config",
      prepared,
      "--config-path",
      r2.configPath,
      "--bin-dir",
      bed.bin,
      "--login",
      r2.login,
      "--authorized-key",
      readFileSync(`${source.key}.pub`, "utf8").trim(),
      "--authorized-keys-file",
      r2.authorizedKeys,
      "--yes",
    ]);
    expect(receiver.output).toContain("receiver ready: 2 target(s)");
    // install --receiver never replaces a source's config.
    const sourceConfig = readFileSync(source.configPath, "utf8");
    const clobber = await run(["install", "--receiver", "--config", prepared, "--config-path", source.configPath, "--bin-dir", bed.bin, "--yes"]);
    expect(clobber.output).toContain("is this the source host?");
    expect(clobber.code).not.toBe(0);
    expect(readFileSync(source.configPath, "utf8")).toBe(sourceConfig);
    expect(receiver.code).toBe(0);
    expect(statSync(join(bed.bin, "oauth-sync")).mode & 0o777).toBe(0o755);
    // The forced command names its config and starts receive from a clean environment (nothing a client's SetEnv brings).
    const forced = `/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=${r2.home} ${binary} receive --config ${r2.configPath}`;
    expect(readFileSync(r2.authorizedKeys, "utf8")).toBe(`restrict,command="${forced}" ${readFileSync(`${source.key}.pub`, "utf8").trim()}\n`);
    expect(statSync(r2.configPath).uid).not.toBe(0);

    for (const r of [r1, r2]) {
      const again = await run(pushArgs(r, `${binary} receive --config ${r.configPath}`));
      expect(again.output).toContain(`round trip ok: ${r.login}@[${r.address}]:${r.port} answered "receiver ready`);
      expect(again.code).toBe(0);
    }
    const config = JSON.parse(readFileSync(source.configPath, "utf8"));
    expect(config.targets.filter((t: { kind: string }) => t.kind === "ssh")).toHaveLength(2);
    // The key was made once and kept.
    expect(first.output).toContain("made oauth-sync's own ssh key");
    expect(second.output).not.toContain("made oauth-sync's own ssh key");

    // From here on, r2's forced command also keeps a copy of every message exactly as it arrived over ssh.
    writeFileSync(r2.authorizedKeys, readFileSync(r2.authorizedKeys, "utf8").replace('command="', `command="tee -a ${capture()} | `));
  }, 120_000);

  test("a rotation on the source reaches both receivers' targets; status shows each host", async () => {
    const token = fakeToken();
    writeLogin(token, Date.now() + 8 * HOUR);
    watcher = start(["watch", "--config", source.configPath, "--verbose"]);
    await waitForToken([source.env, ...bed.receivers.flatMap(receiverFiles)], token, 20_000);
    const next = fakeToken();
    writeLogin(next, Date.now() + 9 * HOUR);
    await waitForToken([source.env, ...bed.receivers.flatMap(receiverFiles)], next, 10_000);

    for (const r of bed.receivers) {
      const record = await waitUntil(`state of ${r.name}`, async () => {
        const value = (await sourceState()).hosts?.[`ssh:${r.login}@${r.address}:${r.port}`];
        return value?.fingerprint === fp(next) ? value : undefined;
      }, { timeoutMs: 5000, intervalMs: 50 });
      expect(record.syncedAt).toBeString();
    }
    const status = await run(["status", "--json", "--config", source.configPath]);
    const report = JSON.parse(status.stdout);
    const shown = report.targets.filter((t: { kind: string }) => t.kind === "ssh");
    expect(shown).toHaveLength(2);
    for (const t of shown) expect(t).toMatchObject({ holdsCurrent: true, fingerprint: fp(next), push: { failures: 0 } });
    // Each receiver's own status: the token pushed to it.
    const r1Status = JSON.parse((await run(["status", "--json", "--config", bed.receivers[0]!.configPath])).stdout);
    expect(r1Status.credentials).toMatchObject({ path: "(pushed)", fingerprint: fp(next) });
    expect(r1Status.targets.every((t: { holdsCurrent: boolean }) => t.holdsCurrent)).toBe(true);
    expect(watcher.output()).not.toContain(next);
    // `sync` pushes once to every host, in parallel, and waits for them.
    const once = await run(["sync", "--config", source.configPath]);
    for (const r of bed.receivers) expect(once.output).toContain(`ssh:${r.login}@${r.address}:${r.port}: holds token ${fp(next)} (unchanged`);
    expect(once.code).toBe(0);
    // A receiver's config has no credentials file to follow.
    const refused = await run(["watch", "--config", bed.receivers[0]!.configPath]);
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('"source": "push"');
  }, 60_000);

  test("one receiver stopped: the other gets the token at once; the stopped one catches up when it returns", async () => {
    const [r1, r2] = bed.receivers as [Receiver, Receiver];
    await r2.stop();
    const token = fakeToken();
    const renamed = performance.now();
    writeLogin(token, Date.now() + 10 * HOUR);
    const ms = await waitForToken(receiverFiles(r1), token, 5000, renamed);
    console.log(`r1 written ${ms.toFixed(0)} ms after the rename while r2 is down`);
    const id = `ssh:${r2.login}@${r2.address}:${r2.port}`;
    const failing = await waitUntil("r2's error", async () => ((await sourceState()).hosts?.[id]?.lastError ? (await sourceState()).hosts?.[id] : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    expect(failing.lastError).toContain("refused the connection");
    expect(readFileSync(r2.targets.env, "utf8")).not.toContain(token);
    const status = await run(["status", "--config", source.configPath]);
    expect(status.stdout).toMatch(new RegExp(`host +FAILING ${id}: .*refused the connection`));

    // Failing again and again: a push-failing notification (failureThreshold 2) names the host and the reason.
    const hook = await waitUntil("the push-failing webhook", () => hooks.find((h) => h.event === "push-failing"), { timeoutMs: 15_000, intervalMs: 50 });
    expect(hook.title).toContain(`push to ${id} failing`);
    expect(hook.message).toContain("refused the connection");
    await r2.start();
    const caughtUp = await waitForToken(receiverFiles(r2), token, 30_000);
    console.log(`r2 caught up ${caughtUp.toFixed(0)} ms after its sshd came back`);
    await waitUntil("r2's record", async () => (await sourceState()).hosts?.[id]?.fingerprint === fp(token) && !(await sourceState()).hosts?.[id]?.lastError, { timeoutMs: 5000, intervalMs: 50 });
  }, 60_000);

  test("a hung receiver (sshd frozen: it accepts and says nothing) does not delay the other; it gets the token once it answers", async () => {
    const [r1, r2] = bed.receivers as [Receiver, Receiver];
    r2.freeze();
    try {
      const token = fakeToken();
      const renamed = performance.now();
      writeLogin(token, Date.now() + 10 * HOUR + 60_000);
      const ms = await waitForToken(receiverFiles(r1), token, 3000, renamed);
      console.log(`r1 written ${ms.toFixed(0)} ms after the rename while r2 hangs`);
      expect(readFileSync(r2.targets.env, "utf8")).not.toContain(token);
      r2.thaw();
      await waitForToken(receiverFiles(r2), token, 30_000);
    } finally {
      r2.thaw();
    }
  }, 60_000);

  test("a changed host key is refused: nothing is sent to it, the other host is served, the error says why", async () => {
    const [r1, r2] = bed.receivers as [Receiver, Receiver];
    await r1.stop();
    const old = r1.replaceHostKey();
    await r1.start();
    const before = snapshot(r1.home);
    const token = fakeToken();
    writeLogin(token, Date.now() + 11 * HOUR);
    await waitForToken(receiverFiles(r2), token, 10_000);
    const id = `ssh:${r1.login}@${r1.address}:${r1.port}`;
    const record = await waitUntil("r1's error", async () => ((await sourceState()).hosts?.[id]?.lastError ? (await sourceState()).hosts?.[id] : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    expect(record.lastError).toContain("does not match");
    expect(snapshot(r1.home)).toEqual(before);
    // The real host comes back with its real key: it catches up.
    await r1.stop();
    r1.restoreHostKey(old);
    await r1.start();
    await waitForToken(receiverFiles(r1), token, 30_000);
  }, 60_000);

  test("the forced-command key runs `oauth-sync receive` and nothing else", () => {
    const [r1] = bed.receivers as [Receiver];
    const marker = join(bed.root, `pwned-${randomBytes(4).toString("hex")}`);
    for (const command of ["id", `sh -c 'id; touch ${marker}'`, "cat /etc/shadow"]) {
      const result = sshWithKey(r1, "", command);
      expect(result.stdout).not.toContain("uid=");
      expect(result.stdout).not.toContain("root:");
      expect(JSON.parse(result.stdout.trim())).toMatchObject({ receiver: "oauth-sync", status: "refused", detail: "empty message" });
      expect(result.code).toBe(3);
    }
    expect(() => statSync(marker)).toThrow();
    // No forwarding either (restrict): with the key accepted (no "Permission denied"), the server refuses the channel.
    const argv = sshArgv(sshTarget(r1));
    expect(argv.slice(-3, -2)).toEqual(["--"]);
    const forward = spawnSync(argv[0]!, [...argv.slice(1, -3), "-W", `127.0.0.1:${r1.port}`, "--", r1.address], { input: "", encoding: "utf8", timeout: 20_000 });
    expect(forward.status).not.toBe(0);
    expect(forward.stderr).toMatch(/stdio forwarding failed|administratively prohibited|open failed/);
  });

  test("hostile input to receive is refused and nothing is written", () => {
    const [r1] = bed.receivers as [Receiver];
    const held = JSON.parse(readFileSync(join(r1.stateDir, "state.json"), "utf8")).source;
    const valid = (accessToken: string, expiresAt: number, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ v: 1, kind: "token", accessToken, expiresAt, subscriptionType: "max", fingerprint: fp(accessToken), ...extra });
    const token = fakeToken();
    const newline = `${fakeToken()}\nCOMPOSE_FILE=/tmp/evil.yml`;
    const cases: Array<[string, string | Buffer]> = [
      ["huge", Buffer.alloc(8 * 1024 * 1024, "A")],
      ["malformed", "{ not json"],
      ["older", `${valid(token, held.expiresAt - 60_000)}\n`],
      ["newline in the token", `${valid(newline, Date.now() + 8 * HOUR)}\n`],
      ["two lines", `${valid(token, Date.now() + 12 * HOUR)}\n${valid(fakeToken(), Date.now() + 13 * HOUR)}\n`],
      ["a refresh token", `${valid(token, Date.now() + 12 * HOUR, { refreshToken: fakeToken("ort") })}\n`],
      ["unknown keys", `${valid(token, Date.now() + 12 * HOUR, { path: "/etc/passwd" })}\n`],
      ["fingerprint mismatch", `${valid(token, Date.now() + 12 * HOUR).replace(fp(token), "000000000000")}\n`],
      ["expired", `${valid(token, Date.now() - 1000)}\n`],
      ["seconds, not ms", `${valid(token, Math.floor(Date.now() / 1000) + 3600)}\n`],
    ];
    const before = snapshot(r1.home);
    for (const [name, input] of cases) {
      const result = sshWithKey(r1, input);
      const answer = JSON.parse(result.stdout.trim());
      expect({ name, status: answer.status, code: result.code }).toEqual({ name, status: "refused", code: 3 });
      expect(result.stdout).not.toContain(token);
    }
    expect(snapshot(r1.home)).toEqual(before);
    // And a good one still goes through.
    const good = sshWithKey(r1, `${valid(token, Date.now() + 12 * HOUR)}\n`);
    expect(JSON.parse(good.stdout.trim())).toMatchObject({ status: "written", fingerprint: fp(token) });
    expect(readFileSync(r1.targets.env, "utf8")).toContain(token);
  }, 120_000);

  test("the refresh token never appears on a receiver: not in any file, not in the messages as they arrived", async () => {
    expect(refreshTokens.length).toBeGreaterThan(4);
    const received = readFileSync(capture(), "utf8");
    const lines = received.trim().split("\n");
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(Object.keys(JSON.parse(line)).sort()).toEqual(["accessToken", "expiresAt", "fingerprint", "kind", "subscriptionType", "v"]);
    for (const r of bed.receivers) {
      const everything = allText(r.home) + allText(r.dir) + r.log();
      expect(everything).toContain("sk-ant-oat01-");
      expect(everything).not.toContain("sk-ant-ort");
      for (const refresh of refreshTokens) expect(everything).not.toContain(refresh.slice(14));
    }
    // Nor in the source's log, nor in a notification.
    for (const refresh of refreshTokens) expect(watcher!.output()).not.toContain(refresh);
    expect(JSON.stringify(hooks)).not.toContain("sk-ant-");
  });

  test("check after a refresh (the real Claude CLI, a fake token endpoint) pushes the new token to every ssh host, as sync does", async () => {
    // No service running: the backstop timer is what notices the token due.
    await watcher?.stop();
    watcher = undefined;
    const claude = await ensureClaudeCli();
    // Its tokens outlive the ones the earlier tests pushed (the receivers refuse an older token).
    const fake = await startFakeOAuth({ expiresIn: 48 * 3600 });
    const home = join(source.dir, "home");
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const original = readFileSync(source.configPath, "utf8");
    try {
      const config = JSON.parse(original);
      writeFileSync(source.configPath, JSON.stringify({ ...config, trigger: hostTrigger(claude, home) }), { mode: 0o600 });
      // A login inside the CLI's refresh window (the CLI writes its own file; refresh tokens rotate).
      await writeClaudeCredentials(join(source.dir, "claude"), { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken(), expiresAt: Date.now() + 2 * 60_000 });
      const env = { HTTPS_PROXY: fake.proxyUrl, NO_PROXY: "127.0.0.1,localhost", NODE_EXTRA_CA_CERTS: fake.caFile };
      const checked = await run(["check", "--config", source.configPath], env);
      expect(checked.code).toBe(5);
      const fresh = fake.issued.at(-1)!;
      expect(fresh).toBeString();
      for (const r of bed.receivers) expect(checked.output).toContain(`ssh:${r.login}@${r.address}:${r.port}: holds token ${fp(fresh)}`);
      await waitForToken([source.env, ...bed.receivers.flatMap(receiverFiles)], fresh, 5000);
      for (const r of bed.receivers) expect((await sourceState()).hosts?.[`ssh:${r.login}@${r.address}:${r.port}`]).toMatchObject({ fingerprint: fp(fresh), failures: 0 });
      expect(checked.output).not.toContain(fresh);
    } finally {
      writeFileSync(source.configPath, original, { mode: 0o600 });
      await fake.close();
    }
  }, 180_000);

  test("install --push in a terminal shows the host key fingerprint and asks; a no changes nothing", async () => {
    ensureTmux();
    const [r1] = bed.receivers as [Receiver];
    // Two sessions, the second started before the first is killed: killing the only session ends the tmux server,
    // and a session started at that moment can land on the dying server (CI once saw an empty screen for 30 s).
    const sessions = [`oauth-sync-push-${process.pid}`, `oauth-sync-push-${process.pid}-no`];
    let session = sessions[0]!;
    const screen = () => spawnSync("tmux", ["capture-pane", "-p", "-t", session, "-S", "-200"], { encoding: "utf8" }).stdout ?? "";
    const waitScreen = (text: string) => waitUntil(`${JSON.stringify(text)} on the screen`, () => screen().includes(text), { timeoutMs: 30_000, intervalMs: 50, detail: screen });
    const keys = async (...k: string[]) => {
      await Bun.sleep(400); // the prompt takes the terminal (raw mode) just after drawing itself
      spawnSync("tmux", ["send-keys", "-t", session, ...k]);
    };
    const command = (extra = "") =>
      `env -i TERM=xterm PATH=${process.env.PATH} HOME=/root ${requireBinary()} install --push root@${r1.address} --port ${r1.port} --key ${source.key} --config-path ${source.configPath} --remote-command '${join(bed.bin, "oauth-sync")} receive --config ${r1.configPath}' ${extra}; echo EXIT=$?; sleep 600`;
    try {
      spawnSync("tmux", ["new-session", "-d", "-s", session, "-x", "200", "-y", "60", command()]);
      await waitScreen("Are these the host keys of");
      expect(screen()).toContain(`host key of [${r1.address}]:${r1.port}: ssh-ed25519 ${r1.hostFingerprint()}`);
      await keys("Enter");
      await waitScreen("Is the line in place");
      await keys("Enter");
      await waitScreen("EXIT=");
      expect(screen()).toContain(`round trip ok: root@[${r1.address}]:${r1.port}`);
      expect(screen()).toContain("EXIT=0");

      const knownHosts = readFileSync(join(source.dir, "ssh/known_hosts"), "utf8");
      session = sessions[1]!;
      spawnSync("tmux", ["new-session", "-d", "-s", session, "-x", "200", "-y", "60", command()]);
      spawnSync("tmux", ["kill-session", "-t", sessions[0]!]);
      await waitScreen("Are these the host keys of");
      await keys("Right");
      await keys("Enter");
      await waitScreen("EXIT=");
      expect(screen()).toContain("host key not confirmed");
      expect(screen()).not.toContain("EXIT=0");
      expect(readFileSync(join(source.dir, "ssh/known_hosts"), "utf8")).toBe(knownHosts);
    } finally {
      for (const name of sessions) spawnSync("tmux", ["kill-session", "-t", name]);
    }
  }, 120_000);
});
