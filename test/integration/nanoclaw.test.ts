/**
 * NanoClaw as a consumer of the login, played with real parts: a real unprivileged user owns the checkout and runs
 * NanoClaw's host loop under Node (its .env reader and its per-container `readSecrets`, test/support/nanoclaw/); the
 * compiled `watch` (as root) keeps that .env current; the real Claude CLI rotates the login against the fake OAuth
 * server. The next agent container gets the new token from the same NanoClaw process, no restart. Then `install` in
 * a booted systemd finds NanoClaw layouts and proposes what each needs, and the installed service keeps a user's
 * .env current.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { claudeEnv, ensureClaudeCli, readClaudeCredentials, runClaude, startFakeOAuth, type FakeOAuth } from "../bed/claude.ts";
import { requireBinary, start, type Running } from "../support/binary.ts";
import { boxHelpers } from "../support/box.ts";
import { HOST_FILES, nanoclawUnit, unitPath, writeCheckout } from "../support/nanoclaw.ts";
import { refreshCase, type RefreshCase } from "../support/refresh-bed.ts";
import { createTempUser, type TempUser } from "../support/users.ts";
import { waitUntil } from "../support/wait.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
let user: TempUser | undefined;
let uid = 0;
let gid = 0;
let base = "";

function ensureUser(): void {
  user = createTempUser("oauthsync-nano", ["--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"]);
  ({ uid, gid } = user);
}

interface Handed {
  message: number;
  pid: number;
  uid: number;
  container: string;
}

/** NanoClaw's host loop, as the checkout's owner, from its WorkingDirectory (as its unit starts it). */
function startNanoClaw(projectDir: string, home: string): { child: ChildProcess; handed: Handed[]; stderr: () => string } {
  const child = spawn("node", [join(projectDir, "dist/host.mjs")], { cwd: projectDir, uid, gid, env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home, NANOCLAW_EVERY_MS: "100" } });
  const handed: Handed[] = [];
  let partial = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line.trim()) handed.push(JSON.parse(line));
  });
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  return { child, handed, stderr: () => stderr };
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("this suite runs NanoClaw as a real unprivileged user: run it as root");
  if (spawnSync("node", ["--version"]).status !== 0) throw new Error("node is missing: NanoClaw runs on Node (apt-get install nodejs)");
  ensureUser();
  base = `/tmp/oauth-sync-nanoclaw-${process.pid}`;
  mkdirSync(base, { mode: 0o755 });
  chmodSync(base, 0o755);
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  user?.remove();
});

describe("NanoClaw 1.x on this host: the compiled watch, a real rotation, the next container", () => {
  let fake: FakeOAuth | undefined;
  let c: RefreshCase | undefined;
  let watch: Running | undefined;
  let nanoclaw: ReturnType<typeof startNanoClaw> | undefined;

  afterAll(async () => {
    nanoclaw?.child.kill("SIGKILL");
    await watch?.stop();
    await c?.remove();
    await fake?.close();
  });

  test("the CLI rotates the login; watch rewrites NanoClaw's .env as its owner; the same NanoClaw process hands the new token to its next container", async () => {
    const claude = await ensureClaudeCli();
    fake = await startFakeOAuth();
    c = await refreshCase(fake, "oauth-sync-nanoclaw-login-");
    // The user's home (0700, as Debian makes it) and the checkout in it, owned by the user, as `git clone` leaves it.
    const home = join(base, "home");
    mkdirSync(home, { mode: 0o700 });
    chownSync(home, uid, gid);
    const projectDir = join(home, "nanoclaw");
    const before = "# NanoClaw\nASSISTANT_NAME=Andy\nCLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-set-up-by-hand\nTZ=UTC\n";
    const { envFile } = writeCheckout("", projectDir, { era: "per-container", version: "1.2.11", env: before, owner: { uid, gid } });
    for (const [name, source] of Object.entries(HOST_FILES)) {
      copyFileSync(source, join(projectDir, "dist", name));
      chownSync(join(projectDir, "dist", name), uid, gid);
    }
    await c.writeConfig({ targets: [{ kind: "env-file", path: envFile, variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: false }], trigger: { mode: "none" } });
    const first = await c.login(Date.now() + 3 * MIN); // inside the CLI's 5-minute window: its next `auth status` refreshes

    nanoclaw = startNanoClaw(projectDir, home);
    watch = start(["watch", "--config", c.sandbox.configPath], c.env);
    const sawToken = (token: string) => () => nanoclaw!.handed.some((h) => h.container === fingerprint(token));
    await waitUntil("NanoClaw's container got the first token", sawToken(first.accessToken), { timeoutMs: 30_000, detail: () => watch!.output() + nanoclaw!.stderr() });
    const pid = nanoclaw.handed[0]!.pid;
    expect(nanoclaw.handed.every((h) => h.uid === uid)).toBe(true);

    // The real Claude CLI refreshes against the fake OAuth server and replaces its file (temp + rename).
    const rotatedAt = Date.now();
    const cli = await runClaude(claude, ["auth", "status"], claudeEnv({ proxyUrl: fake.proxyUrl, caFile: fake.caFile, configDir: c.configDir, home: c.home }));
    expect(cli.code, cli.stderr).toBe(0);
    const second = (await readClaudeCredentials(c.configDir))!;
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.accessToken).toBe(fake.issued.at(-1)!);

    await waitUntil("NanoClaw's next container got the rotated token", sawToken(second.accessToken), { timeoutMs: 30_000, detail: () => watch!.output() + nanoclaw!.stderr() });
    const firstNew = nanoclaw.handed.find((h) => h.container === fingerprint(second.accessToken))!;
    console.log(`rotation → first NanoClaw container with the new token: ${Date.now() - rotatedAt} ms after the CLI started (its run took ${cli.ms} ms); message ${firstNew.message}, same pid`);
    // No restart: every message so far came from the one NanoClaw process; none after the switch got the old token.
    expect(nanoclaw.handed.every((h) => h.pid === pid)).toBe(true);
    expect(nanoclaw.handed.filter((h) => h.message > firstNew.message).every((h) => h.container === fingerprint(second.accessToken))).toBe(true);
    // The .env is still the user's, 0600, every other line kept; the refresh token never went there.
    const info = statSync(envFile);
    expect([info.uid, info.mode & 0o777]).toEqual([uid, 0o600]);
    const text = readFileSync(envFile, "utf8");
    expect(text).toBe(before.replace("sk-ant-oat01-set-up-by-hand", second.accessToken));
    expect(text).not.toContain(second.refreshToken);
    for (const secret of [first.accessToken, first.refreshToken, second.accessToken, second.refreshToken]) expect(watch.output()).not.toContain(secret);
  }, 180_000);
});

describe("install in a booted systemd, on NanoClaw's layouts", () => {
  let box: SystemdContainer;
  const { sh, writeInside, rotateInside, waitInside } = boxHelpers(() => box);
  const NANO_HOME = "/home/nano";
  const PROJECT = `${NANO_HOME}/nanoclaw`;

  beforeAll(async () => {
    box = await bootSystemd("oauth-sync-nanoclaw");
    await box.copyIn(requireBinary(), "/root/oauth-sync");
    await sh("useradd --create-home --shell /bin/bash nano && chmod 700 /home/nano");
    const nano = (await sh("id -u nano")).split("\n")[0]!;
    const owner = { uid: Number(nano), gid: Number(await sh("id -g nano")) };
    // NanoClaw set up by nano: its own checkout and user unit, and its Claude login (the one it follows).
    writeCheckout(box.root, PROJECT, { era: "per-container", version: "1.2.11", env: "ASSISTANT_NAME=Andy\nCLAUDE_CODE_OAUTH_TOKEN=\n", owner });
    await writeInside(unitPath(NANO_HOME, false), nanoclawUnit(PROJECT, NANO_HOME, false), 0o644);
    await writeInside(`${NANO_HOME}/.claude/.credentials.json`, credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
    await sh(`chown -R nano:nano ${NANO_HOME}/.config ${NANO_HOME}/.claude`);
  }, 600_000);

  afterAll(async () => box?.stop());

  test("install --dry-run --yes proposes the .env for CLAUDE_CODE_OAUTH_TOKEN, no reload, no gateway", async () => {
    const dry = await box.exec(["/root/oauth-sync", "install", "--dry-run", "--yes", "--trigger", "none"]);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`nano's user unit ${NANO_HOME}/.config/systemd/user/nanoclaw.service; ${PROJECT}/.env (owner nano); 1.2.11; reads .env per container`);
    const config = JSON.parse(/config to install:\n([\s\S]*?\n})\n/.exec(dry.stdout)![1]!);
    expect(config).toEqual({
      credentials: `${NANO_HOME}/.claude/.credentials.json`,
      targets: [{ kind: "env-file", path: `${PROJECT}/.env`, variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: false }],
      gateway: { kind: "none" },
      trigger: { mode: "none" },
    });
    expect(dry.stderr).toContain("reads .env for every agent container it starts");
    expect(dry.stdout + dry.stderr).not.toContain("sk-ant-");
  }, 120_000);

  test("a fork that refreshes by itself is named; a credential-proxy release as root gets its unit restarted", async () => {
    writeCheckout(box.root, "/root/nanoclaw", { era: "credential-proxy", version: "1.2.21", env: "CLAUDE_CODE_OAUTH_TOKEN=x\n", refresher: true });
    await writeInside(unitPath("/root", true), nanoclawUnit("/root/nanoclaw", "/root", true), 0o644);
    try {
      const dry = await box.exec(["/root/oauth-sync", "install", "--dry-run", "--yes", "--trigger", "none", "--credentials", `${NANO_HOME}/.claude/.credentials.json`]);
      expect(dry.code, dry.stdout + dry.stderr).toBe(0);
      const config = JSON.parse(/config to install:\n([\s\S]*?\n})\n/.exec(dry.stdout)![1]!);
      expect(config.targets).toEqual([
        { kind: "env-file", path: "/root/nanoclaw/.env", variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: true },
        { kind: "env-file", path: `${PROJECT}/.env`, variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: false },
      ]);
      expect(config.gateway).toEqual({ kind: "systemd", unit: "nanoclaw.service" });
      expect(dry.stderr).toContain("/root/nanoclaw/src/oauth-token.ts refreshes the Claude login itself");
    } finally {
      await sh(`rm -rf /root/nanoclaw ${unitPath("/root", true)}`);
    }
  }, 120_000);

  test("installed: the hardened service writes nano's .env as nano on every rotation", async () => {
    const result = await box.exec(["/root/oauth-sync", "install", "--yes", "--trigger", "none", "--no-test"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const token = fakeToken();
    await rotate(token);
    await waitInside(`${PROJECT}/.env`, token);
    const info = statSync(join(box.root, PROJECT, ".env"));
    expect([info.uid, info.mode & 0o777]).toEqual([Number(await sh("id -u nano")), 0o600]);
    expect(readFileSync(join(box.root, PROJECT, ".env"), "utf8")).toBe(`ASSISTANT_NAME=Andy\nCLAUDE_CODE_OAUTH_TOKEN=${token}\n`);
    expect(await sh("systemctl show -p ProtectHome --value oauth-sync.service")).toBe("read-only");
  }, 120_000);

  /** The CLI's rename, in nano's login (rotateInside does root's). */
  async function rotate(token: string) {
    await writeInside(`${NANO_HOME}/.claude/.credentials.json.tmp`, credentialsJson(token, Date.now() + 8 * HOUR));
    await sh(`chown nano:nano ${NANO_HOME}/.claude/.credentials.json.tmp && mv ${NANO_HOME}/.claude/.credentials.json.tmp ${NANO_HOME}/.claude/.credentials.json`);
  }
  void rotateInside;
});
