/**
 * Least privilege, played as the attacker would: a real unprivileged user owns the places oauth-sync works in and
 * plants links, FIFOs, huge files, hostile tokens and configs between our runs. Every attack runs against the
 * compiled binary (as root, as the service does); a canary outside must stay untouched, no program oauth-sync starts
 * for that user may run as root, and the honest path must still work. Prints "N/N attacks held".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { requireBinary } from "../support/binary.ts";
import { createTempUser, tempUserName, type TempUser } from "../support/users.ts";
import { waitUntil } from "../support/wait.ts";

const HOUR = 3_600_000;
const MALLORY = tempUserName("oauthsync-mallory");
let mallory: TempUser | undefined;
const CONTAINER_UID = 1000; // the uid OpenClaw's image runs as (node)
let uid = 0;
let gid = 0;
let base = "";
let bin = "";
const held: string[] = [];
const attacks: string[] = [];

/** Runs a shell command as the attacker: the kernel lets them do exactly what that user can. */
function asMallory(script: string) {
  const result = spawnSync("sh", ["-c", script], { uid, gid, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`as ${MALLORY}: ${script}: ${result.stderr}`);
}

/** The compiled binary, run as root from a copy every user can execute (the clone may live under a 0700 dir). */
async function oauthSync(args: string[], timeoutMs = 30_000) {
  const child = spawn(bin, args, { env: { PATH: `${base}/bin:/usr/local/bin:/usr/bin:/bin`, HOME: "/root" } });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, output };
}

function attack(name: string, body: () => Promise<void>, timeout = 60_000) {
  attacks.push(name);
  test(name, async () => {
    await body();
    held.push(name);
  }, timeout);
}

const canaryText = "CANARY: root's file, never to be written by oauth-sync\n";
const canary = () => join(base, "etc/canary.conf");
function expectCanaryUntouched() {
  expect(readFileSync(canary(), "utf8")).toBe(canaryText);
  expect(statSync(canary()).mode & 0o777).toBe(0o644);
  expect(existsSync(join(base, "etc/cron.d/oauth-sync-pwned"))).toBe(false);
}

/** A root-owned config (0600) in a root-only directory. */
function writeConfig(name: string, config: Record<string, unknown>): string {
  const path = join(base, "root", `${name}.json`);
  writeFileSync(path, JSON.stringify({ stateDir: join(base, "root/state", name), ...config }), { mode: 0o600 });
  return path;
}

function rootCredentials(token = fakeToken(), expiresAt = Date.now() + 8 * HOUR): string {
  const path = join(base, "root/claude/.credentials.json");
  writeFileSync(path, credentialsJson(token, expiresAt), { mode: 0o600 });
  return path;
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("the attack suite plays a real unprivileged user against root: run it as root");
  // Never uid/gid 1000, the container's (on a machine with no user yet, useradd would pick it).
  mallory = createTempUser("oauthsync-mallory", ["--no-create-home", "--shell", "/usr/sbin/nologin", "-K", "UID_MIN=1001", "-K", "GID_MIN=1001"]);
  ({ uid, gid } = mallory);
  base = `/tmp/oauth-sync-attacks-${process.pid}`;
  rmSync(base, { recursive: true, force: true });
  for (const dir of ["bin", "etc/cron.d", "root/claude", "root/state", "root/targets", "log"]) mkdirSync(join(base, dir), { recursive: true, mode: 0o755 });
  chmodSync(base, 0o755);
  chmodSync(join(base, "root"), 0o700);
  chmodSync(join(base, "log"), 0o1777); // fake programs record their uid here, whoever they run as
  writeFileSync(canary(), canaryText, { mode: 0o644 });
  bin = join(base, "bin/oauth-sync");
  copyFileSync(requireBinary(), bin);
  chmodSync(bin, 0o755);
  for (const dir of ["mallory", "mallory/home", "mallory/home/.claude", "mallory/home/.openclaw", "mallory-home"]) {
    mkdirSync(join(base, dir), { mode: 0o755 });
    chownSync(join(base, dir), uid, gid);
  }
  // Fake programs (root's, 0755): each records the uid it ran as, and nothing else.
  for (const name of ["claude", "openclaw"]) {
    writeFileSync(join(base, "bin", name), `#!/bin/sh\necho "$(id -u) $*" >> ${base}/log/${name}.uids\ncat > /dev/null\nexit 0\n`, { mode: 0o755 });
  }
});

afterAll(() => {
  console.log(`${held.length}/${attacks.length} attacks held`);
  mallory?.remove(); // ends the attacker's processes too
  rmSync(base, { recursive: true, force: true });
});

const recordedUids = (name: string) =>
  existsSync(join(base, "log", `${name}.uids`)) ? readFileSync(join(base, "log", `${name}.uids`), "utf8").trim().split("\n").filter(Boolean).map((l) => Number(l.split(" ")[0])) : [];

describe("attacks on the places oauth-sync writes", () => {
  attack("a symlink planted at a target (.env -> root's file) writes nothing through it", async () => {
    asMallory(`ln -s ${canary()} ${base}/mallory/.env`);
    const config = writeConfig("symlink", { credentials: rootCredentials(), targets: [{ kind: "env-file", path: join(base, "mallory/.env") }] });
    const result = await oauthSync(["sync", "--config", config]);
    expect(result.code).toBe(1);
    expect(result.output).toContain("symbolic link");
    expectCanaryUntouched();
    expect(lstatSync(join(base, "mallory/.env")).isSymbolicLink()).toBe(true);
  });

  attack("a dangling symlink (file or directory) creates nothing where it points", async () => {
    asMallory(`mkdir -p ${base}/mallory/agents/main && ln -s ${base}/etc/cron.d/oauth-sync-pwned ${base}/mallory/agents/main/agent-file && ln -s ${base}/etc/cron.d ${base}/mallory/linkdir`);
    const config = writeConfig("dangling", {
      credentials: rootCredentials(),
      targets: [
        { kind: "openclaw-auth-profiles", path: join(base, "mallory/agents/main/agent-file") },
        { kind: "openclaw-auth-profiles", path: join(base, "mallory/linkdir/oauth-sync-pwned") },
      ],
    });
    const result = await oauthSync(["sync", "--config", config]);
    expect(result.code).toBe(1);
    expectCanaryUntouched();
    expect(spawnSync("ls", ["-A", join(base, "etc/cron.d")], { encoding: "utf8" }).stdout.trim()).toBe("");
  });

  attack("a FIFO swapped for a symlink and back while root reads: no hang, nothing written through it", async () => {
    const env = join(base, "mallory/race.env");
    const swapper = spawn("sh", ["-c", `for i in $(seq 1 400); do rm -f ${env}; mkfifo ${env}; rm -f ${env}; ln -s ${canary()} ${env}; done`], { uid, gid });
    const config = writeConfig("race", { credentials: rootCredentials(), targets: [{ kind: "env-file", path: env }] });
    for (let i = 0; i < 8; i++) {
      const result = await oauthSync(["sync", "--config", config], 20_000);
      expect(result.code).not.toBeNull(); // not killed by the timeout: it did not block
      expectCanaryUntouched();
    }
    swapper.kill();
  });

  attack("a FIFO target does not stall watch: the other target is synced, and SIGTERM ends it", async () => {
    asMallory(`mkfifo ${base}/mallory/fifo.json`);
    spawnSync("mkfifo", [join(base, "root/targets/fifo.env")]); // and one in root's own place, handled in-process
    const good = join(base, "root/targets/good.env");
    const token = fakeToken();
    const config = writeConfig("fifo-watch", {
      credentials: rootCredentials(token),
      targets: [
        { kind: "openclaw-auth-profiles", path: join(base, "mallory/fifo.json") },
        { kind: "env-file", path: join(base, "root/targets/fifo.env") },
        { kind: "env-file", path: good },
      ],
    });
    const child = spawn(bin, ["watch", "--config", config], { env: { PATH: "/usr/bin:/bin", HOME: "/root" } });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    await waitUntil("the token in the honest target", () => existsSync(good) && readFileSync(good, "utf8").includes(token), { timeoutMs: 15_000, intervalMs: 50, onTimeout: "continue" });
    expect(readFileSync(good, "utf8")).toContain(token);
    child.kill("SIGTERM");
    const code = await Promise.race([exited, Bun.sleep(10_000).then(() => "still running")]);
    if (code === "still running") child.kill("SIGKILL");
    expect(code).toBe(0);
  });

  attack("credentials at /dev/zero, a FIFO or a huge file are refused at once, with bounded memory", async () => {
    const fifo = join(base, "root/claude/fifo.json");
    spawnSync("mkfifo", [fifo]);
    const huge = join(base, "root/claude/huge.json");
    spawnSync("truncate", ["-s", "2G", huge]);
    const link = join(base, "root/claude/zero.json");
    symlinkSync("/dev/zero", link); // root's own link in root's directory: followed, and then refused as a device
    for (const credentials of ["/dev/zero", fifo, huge, link]) {
      const config = writeConfig("zero", { credentials, targets: [{ kind: "env-file", path: join(base, "root/targets/zero.env") }] });
      const result = await oauthSync(["sync", "--config", config], 20_000);
      expect(result.code).toBe(3);
      expect(result.output).toMatch(/not a regular file|larger than/);
    }
    expect(existsSync(join(base, "root/targets/zero.env"))).toBe(false);
  });

  attack("a token with a newline never adds a line to .env, over two passes", async () => {
    const env = join(base, "root/targets/newline.env");
    writeFileSync(env, "OTHER=1\n", { mode: 0o600 });
    const credentials = join(base, "root/claude/.credentials.json");
    writeFileSync(credentials, credentialsJson(`${fakeToken()}\nCOMPOSE_FILE=/etc/evil.yml`, Date.now() + 8 * HOUR), { mode: 0o600 });
    const config = writeConfig("newline", { credentials, targets: [{ kind: "env-file", path: env }] });
    for (let pass = 0; pass < 2; pass++) {
      const result = await oauthSync(["sync", "--config", config]);
      expect(result.code).toBe(3);
      expect(result.output).toContain("does not look like a Claude OAuth token");
    }
    expect(readFileSync(env, "utf8")).toBe("OTHER=1\n");
  });

  attack("an expiry of 8640000000000001 is refused; status reports without a crash or a stack", async () => {
    const credentials = join(base, "root/claude/.credentials.json");
    writeFileSync(credentials, credentialsJson(fakeToken(), 8640000000000001), { mode: 0o600 });
    const config = writeConfig("expiry", { credentials, targets: [{ kind: "env-file", path: join(base, "root/targets/expiry.env") }] });
    expect((await oauthSync(["sync", "--config", config])).code).toBe(3);
    const status = await oauthSync(["status", "--config", config, "--json"]);
    expect(status.output).not.toMatch(/RangeError|\n\s+at |\$bunfs/);
    expect(status.output).toContain("between 2020 and 2100");
    rootCredentials(); // a good login afterwards is synced, not refused as older
    expect((await oauthSync(["sync", "--config", config])).code).toBe(0);
  });
});

describe("attacks on what steers oauth-sync", () => {
  attack("a newline in a path cannot inject unit directives (units, install --dry-run)", async () => {
    const evil = join(base, "root", "c\nExecStartPre=+touch pwned.json");
    writeFileSync(evil, JSON.stringify({ credentials: rootCredentials(), stateDir: join(base, "root/state/units"), targets: [{ kind: "env-file", path: join(base, "root/targets/u.env") }] }), { mode: 0o600 });
    const units = await oauthSync(["units", "--config", evil]);
    expect(units.code).not.toBe(0);
    expect(units.output).not.toContain("ExecStartPre=+/bin/touch");
    expect(units.output).toContain("control character");
    const inConfig = writeConfig("units-path", {
      credentials: "/root/.claude/x\nExecStartPre=+/bin/touch /tmp/pwned",
      targets: [{ kind: "env-file", path: join(base, "root/targets/u.env") }],
    });
    for (const args of [["units", "--config", inConfig], ["install", "--dry-run", "--yes", "--config", inConfig]]) {
      const result = await oauthSync(args);
      expect(result.code).toBe(2);
      expect(result.output).toContain("control character");
      expect(result.output).not.toContain("ExecStartPre=+/bin/touch");
    }
  });

  attack("a config a user owns, or anyone may write, or in a user's directory, is refused: its command gateway never runs", async () => {
    const marker = join(base, "log/gateway-ran");
    const body = {
      credentials: rootCredentials(),
      stateDir: join(base, "root/state/steer"),
      targets: [{ kind: "env-file", path: join(base, "root/targets/steer.env") }],
      gateway: { kind: "command", command: ["/bin/sh", "-c", `id -u > ${marker}`] },
    };
    const owned = join(base, "root/owned.json");
    writeFileSync(owned, JSON.stringify(body), { mode: 0o600 });
    chownSync(owned, uid, gid);
    const open = join(base, "root/open.json");
    writeFileSync(open, JSON.stringify(body), { mode: 0o666 });
    chmodSync(open, 0o666);
    const inUserDir = join(base, "mallory/config.json");
    writeFileSync(inUserDir, JSON.stringify(body), { mode: 0o600 });
    for (const [path, fix] of [[owned, "chown 0"], [open, "chmod go-w"], [inUserDir, "belongs to"]] as const) {
      const result = await oauthSync(["sync", "--config", path]);
      expect(result.code).toBe(2);
      expect(result.output).toContain(fix);
    }
    expect(existsSync(marker)).toBe(false);
  });

  attack("a state directory a user can write (or a link into one) is refused", async () => {
    const targets = [{ kind: "env-file", path: join(base, "root/targets/state.env") }];
    const userState = join(base, "mallory/state");
    asMallory(`mkdir ${userState}`);
    const linked = join(base, "root/state-link");
    symlinkSync(userState, linked); // root's link, but into mallory's directory
    for (const stateDir of [userState, linked, join(userState, "deeper")]) {
      const config = writeConfig("state", { credentials: rootCredentials(), stateDir, targets });
      const result = await oauthSync(["sync", "--config", config]);
      expect(result.code).toBe(2);
      expect(result.output).toContain("state directory");
    }
    expect(spawnSync("ls", ["-A", userState], { encoding: "utf8" }).stdout.trim()).toBe("");
  });

  attack("a webhook URL is never echoed by config check", async () => {
    const config = writeConfig("webhook", {
      credentials: rootCredentials(),
      targets: [{ kind: "env-file", path: join(base, "root/targets/w.env") }],
      notify: { webhooks: [{ url: "hooks.example.invalid/services/T000/SECRETPART0123456789", format: "slack" }] }, // mistyped: no scheme
    });
    const result = await oauthSync(["config", "check", "--config", config]);
    expect(result.code).toBe(2);
    expect(result.output).not.toContain("SECRETPART");
    expect(result.output).not.toContain("hooks.example");
  });
});

describe("attacks on the programs oauth-sync runs", () => {
  attack("a login swapped for a link to root's: the CLI never runs as root; the honest login runs it as its owner", async () => {
    const login = join(base, "mallory/home/.claude/.credentials.json");
    const config = writeConfig("trigger", {
      credentials: login,
      targets: [{ kind: "env-file", path: join(base, "root/targets/t.env") }],
      trigger: { mode: "host", claude: join(base, "bin/claude"), home: join(base, "mallory-home") }, // the owner's own HOME, in root's directory as /home/NAME is
      refresh: { confirmTries: 1 },
    });
    // Honest: mallory's own login, inside the refresh window → the CLI runs, as mallory.
    writeFileSync(login, credentialsJson(fakeToken(), Date.now() + 2 * 60_000), { mode: 0o600 });
    chownSync(login, uid, gid);
    await oauthSync(["check", "--config", config]);
    expect(recordedUids("claude")).toContain(uid);
    // Attack: the file swapped for a link to root's expiring login (a stat would follow it and say "root").
    rootCredentials(fakeToken(), Date.now() + 2 * 60_000);
    asMallory(`rm -f ${login} && ln -s ${base}/root/claude/.credentials.json ${login}`);
    await oauthSync(["check", "--config", config]);
    // Attack: trigger.user root configured against mallory's directory.
    const asRoot = writeConfig("trigger-root", {
      credentials: login,
      targets: [{ kind: "env-file", path: join(base, "root/targets/t.env") }],
      trigger: { mode: "host", claude: join(base, "bin/claude"), user: "root" },
      refresh: { confirmTries: 1 },
    });
    asMallory(`rm -f ${login}`);
    writeFileSync(login, credentialsJson(fakeToken(), Date.now() + 2 * 60_000), { mode: 0o600 });
    chownSync(login, uid, gid);
    const refused = await oauthSync(["check", "--config", asRoot]);
    expect(refused.code).toBe(2);
    expect(refused.output).toContain("owner of its login");
    expect(recordedUids("claude").length).toBeGreaterThan(0);
    expect(recordedUids("claude")).not.toContain(0);
  });

  attack("openclaw for a user's home runs as that user (sync, status), never as root", async () => {
    writeFileSync(join(base, "mallory/home/.openclaw/openclaw.json"), "{}\n");
    const home = join(base, "mallory/home");
    const target = { kind: "openclaw-cli", command: [join(base, "bin/openclaw")], env: { HOME: home } };
    const config = writeConfig("openclaw", { credentials: rootCredentials(), targets: [target] });
    const sync = await oauthSync(["sync", "--config", config]);
    expect(sync.code).toBe(0);
    await oauthSync(["status", "--config", config]);
    const asRoot = writeConfig("openclaw-root", { credentials: rootCredentials(), targets: [{ ...target, user: "root" }] });
    const refused = await oauthSync(["sync", "--config", asRoot]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("only as the owner");
    const uids = recordedUids("openclaw");
    expect(uids.length).toBeGreaterThanOrEqual(2); // paste-token and models status
    expect(uids.every((u) => u === uid)).toBe(true);
  });
});

describe("the honest path", () => {
  test("a directory owned by uid 1000 (the container's user) receives files that uid 1000 owns and can read", async () => {
    const dir = join(base, "container-config");
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, CONTAINER_UID, CONTAINER_UID);
    const path = join(dir, "agents/main/agent/auth-profiles.json");
    const token = fakeToken();
    const config = writeConfig("honest", { credentials: rootCredentials(token), targets: [{ kind: "openclaw-auth-profiles", path }] });
    const result = await oauthSync(["sync", "--config", config]);
    expect(result.output).not.toContain(token);
    expect(result.code).toBe(0);
    const info = statSync(path);
    expect([info.uid, info.mode & 0o777]).toEqual([CONTAINER_UID, 0o600]);
    expect(statSync(join(dir, "agents")).uid).toBe(CONTAINER_UID);
    const read = spawnSync("cat", [path], { uid: CONTAINER_UID, gid: CONTAINER_UID, encoding: "utf8" });
    expect(read.status).toBe(0);
    expect(read.stdout).toContain(token);
    // A second pass changes nothing.
    const again = await oauthSync(["sync", "--config", config, "--verbose"]);
    expect(again.code).toBe(0);
    expect(statSync(path).ino).toBe(info.ino);
  });

  test("watch removes the temp files a killed writer left, in root's place and in uid 1000's, and nothing else", async () => {
    const dir = join(base, "container-config/agents/main/agent");
    const leftover = join(dir, ".auth-profiles.json.oauth-sync-0123456789ab.tmp");
    const foreign = join(dir, ".other.json.oauth-sync-0123456789ab.tmp");
    for (const path of [leftover, foreign]) {
      writeFileSync(path, "half");
      chownSync(path, CONTAINER_UID, CONTAINER_UID);
    }
    const rootLeftover = join(base, "root/targets/.left.env.oauth-sync-abcdef012345.tmp");
    writeFileSync(rootLeftover, "half");
    const config = writeConfig("leftovers", {
      credentials: rootCredentials(),
      targets: [{ kind: "openclaw-auth-profiles", path: join(dir, "auth-profiles.json") }, { kind: "env-file", path: join(base, "root/targets/left.env") }],
    });
    const child = spawn(bin, ["watch", "--config", config], { env: { PATH: "/usr/bin:/bin", HOME: "/root" } });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    await waitUntil("the leftovers removed", () => output.includes("removed 2 temp file(s)"), { timeoutMs: 15_000, intervalMs: 50, onTimeout: "continue" });
    child.kill("SIGTERM");
    expect(output).toContain("removed 2 temp file(s)");
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(rootLeftover)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
  });
});
