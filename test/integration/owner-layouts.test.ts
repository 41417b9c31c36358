/**
 * Places a user owns below directories that user may not read (or not even enter), synced for real by the compiled
 * binary as root: root opens the way down and hands the owner's directory to the worker acting as the owner
 * (src/privilege/). OpenClaw's Hetzner guide (upstream docs/install/hetzner.md): state in /root/.openclaw chowned to
 * the container's uid 1000, /root left at Debian's 0700. Here "/root" is a 0700 root-owned directory of the test.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { loadAccounts } from "../../src/users/accounts.ts";
import { requireBinary } from "../support/binary.ts";
import { createTempUser } from "../support/users.ts";
import { waitUntil } from "../support/wait.ts";

const HOUR = 3_600_000;
const CONTAINER_UID = 1000;
let base = "";
let bin = "";
let expiresAt = Date.now() + 8 * HOUR;

/** A uid with no passwd entry (a container's user on a host that has no such account). */
function unnamedUid(): number {
  const accounts = loadAccounts();
  for (let uid = 2742; uid < 3000; uid++) if (!accounts.byUid(uid)) return uid;
  throw new Error("no free uid between 2742 and 3000");
}

function run(args: string[]) {
  const result = spawnSync(bin, args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: "/root" }, timeout: 60_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

function credentials(token: string): string {
  const path = join(base, "claude/.credentials.json");
  writeFileSync(path, credentialsJson(token, (expiresAt += 1000)), { mode: 0o600 });
  return path;
}

/** `/root` (root's, `rootMode`) holding a compose project (root's) and `.openclaw` owned by `uid` with one agent. */
function hetzner(name: string, uid: number, rootMode = 0o700) {
  const root = join(base, name, "root");
  const state = join(root, ".openclaw");
  mkdirSync(join(state, "agents/main/agent"), { recursive: true });
  mkdirSync(join(root, "openclaw"), { recursive: true });
  writeFileSync(join(state, "openclaw.json"), "{}\n");
  writeFileSync(join(state, "agents/main/agent/auth-profiles.json"), `${JSON.stringify({ version: 1, profiles: {} }, null, 2)}\n`, { mode: 0o600 });
  spawnSync("chown", ["-R", `${uid}:${uid}`, state]);
  writeFileSync(join(root, "openclaw/.env"), `OPENCLAW_CONFIG_DIR=${state}\nOPENCLAW_GATEWAY_TOKEN=abc\n`, { mode: 0o600 });
  chmodSync(root, rootMode);
  const profiles = join(state, "agents/main/agent/auth-profiles.json");
  const config = join(base, `${name}.json`);
  const targets = [
    { kind: "openclaw-auth-profiles", path: profiles },
    { kind: "openclaw-auth-profiles", path: join(state, "agents/work/agent/auth-profiles.json") }, // a second agent, its dirs still to make
    { kind: "env-file", path: join(root, "openclaw/.env") },
  ];
  return { root, state, profiles, config, targets };
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("these layouts need root: run the suite as root");
  base = `/tmp/oauth-sync-owner-layouts-${process.pid}`;
  rmSync(base, { recursive: true, force: true });
  mkdirSync(join(base, "claude"), { recursive: true, mode: 0o700 });
  mkdirSync(join(base, "bin"), { mode: 0o755 });
  chmodSync(base, 0o755);
  bin = join(base, "bin/oauth-sync");
  copyFileSync(requireBinary(), bin);
  chmodSync(bin, 0o755);
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe("a user's place below directories that user cannot read", () => {
  const layouts: [string, () => number, number][] = [
    ["OpenClaw's Hetzner layout: /root 0700, state chowned to uid 1000", () => CONTAINER_UID, 0o700],
    ["the same for a uid with no passwd entry", unnamedUid, 0o700],
    ["a search-only ancestor (0711)", () => CONTAINER_UID, 0o711],
  ];
  for (const [name, owner, mode] of layouts) {
    test(`${name}: synced, then a rotation synced, files stay the owner's`, () => {
      const uid = owner();
      const layout = hetzner(`layout-${uid}-${mode.toString(8)}`, uid, mode);
      for (const round of [1, 2]) {
        const token = fakeToken();
        writeFileSync(layout.config, JSON.stringify({ credentials: credentials(token), stateDir: join(base, "state", String(mode), String(uid)), targets: layout.targets }), { mode: 0o600 });
        const result = run(["sync", "--config", layout.config]);
        expect(result.output).not.toContain("EACCES");
        expect(result.code).toBe(0);
        for (const target of layout.targets) expect(readFileSync(target.path, "utf8")).toContain(token);
        for (const path of [layout.profiles, layout.targets[1]!.path]) {
          const info = statSync(path);
          expect([info.uid, info.gid, info.mode & 0o777]).toEqual([uid, uid, 0o600]);
        }
        expect(statSync(join(layout.state, "agents/work")).uid).toBe(uid);
        expect(statSync(layout.targets[2]!.path).uid).toBe(0);
        expect(statSync(layout.root).mode & 0o777).toBe(mode); // nothing was loosened to get there
        if (round === 2) expect(result.output).toContain("updated to token");
      }
    });
  }
});

describe("a file shared with a group its owner belongs to (alice:openclaw 0640)", () => {
  test("keeps its group and mode across a rewrite by the worker acting as alice", () => {
    const group = `oauthsync-gw-${process.pid.toString(36)}`;
    const user = createTempUser("oauthsync-alice");
    try {
      expect(spawnSync("groupadd", [group]).status).toBe(0);
      expect(spawnSync("usermod", ["-aG", group, user.name]).status).toBe(0);
      const gid = Number(spawnSync("getent", ["group", group], { encoding: "utf8" }).stdout.split(":")[2]);
      const dir = join(base, "shared-group/home/.openclaw");
      mkdirSync(dir, { recursive: true });
      const env = join(dir, ".env");
      writeFileSync(env, "ANTHROPIC_OAUTH_TOKEN=\n", { mode: 0o640 });
      spawnSync("chown", ["-R", `${user.uid}:${user.gid}`, join(base, "shared-group/home")]);
      spawnSync("chown", [`${user.uid}:${gid}`, env]);
      chmodSync(env, 0o640);
      const token = fakeToken();
      const config = join(base, "shared-group.json");
      writeFileSync(config, JSON.stringify({ credentials: credentials(token), stateDir: join(base, "state/shared-group"), targets: [{ kind: "env-file", path: env }] }), { mode: 0o600 });
      const result = run(["sync", "--config", config]);
      expect(result.code, result.output).toBe(0);
      expect(readFileSync(env, "utf8")).toContain(token);
      const info = statSync(env);
      expect([info.uid, info.gid, info.mode & 0o777]).toEqual([user.uid, gid, 0o640]);
    } finally {
      user.remove();
      spawnSync("groupdel", [group]);
    }
  });
});

describe("the resident worker under watch", () => {
  test("one worker, not dumpable, syncs every rotation; it comes back when killed and when the state dir is made anew", async () => {
    const layout = hetzner("watch", CONTAINER_UID);
    const token = fakeToken();
    writeFileSync(layout.config, JSON.stringify({ credentials: credentials(token), stateDir: join(base, "state/watch"), targets: layout.targets }), { mode: 0o600 });
    const child = spawn(bin, ["watch", "--config", layout.config], { env: { PATH: "/usr/bin:/bin", HOME: "/root" } });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    const landed = async (wanted: string) => {
      const all = () => layout.targets.every((t) => (spawnSync("cat", [t.path], { encoding: "utf8" }).stdout ?? "").includes(wanted));
      await waitUntil("the token in every target", all, { timeoutMs: 15_000, intervalMs: 50, onTimeout: "continue" });
      if (!all()) throw new Error(`token not landed in 15 s:\n${output}`);
    };
    const workers = () =>
      spawnSync("ps", ["-o", "pid=,uid=,args=", "--ppid", String(child.pid)], { encoding: "utf8" })
        .stdout.split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.includes("__as-owner"))
        .map((f) => ({ pid: Number(f[0]), uid: Number(f[1]) }));
    try {
      await landed(token);
      for (let i = 0; i < 3; i++) {
        const next = fakeToken();
        credentials(next);
        await landed(next);
      }
      const [worker, ...more] = workers();
      expect(more).toEqual([]);
      expect(worker?.uid).toBe(CONTAINER_UID);
      // The owner can signal it, but not read it: /proc's files of a non-dumpable process are root's.
      const peek = spawnSync("cat", [`/proc/${worker!.pid}/environ`], { uid: CONTAINER_UID, gid: CONTAINER_UID, encoding: "utf8" });
      expect(peek.status).not.toBe(0);
      expect(peek.stderr).toContain("Permission denied");

      spawnSync("kill", ["-9", String(worker!.pid)], { uid: CONTAINER_UID, gid: CONTAINER_UID });
      const afterKill = fakeToken();
      credentials(afterKill);
      await landed(afterKill);
      const second = workers();
      expect(second).toHaveLength(1);
      expect(second[0]!.pid).not.toBe(worker!.pid);

      // The state dir removed and made again (a restore from backup): the worker holds the old one, root finds a new one.
      rmSync(layout.state, { recursive: true, force: true });
      mkdirSync(join(layout.state, "agents/main/agent"), { recursive: true });
      spawnSync("chown", ["-R", `${CONTAINER_UID}:${CONTAINER_UID}`, layout.state]);
      const afterRestore = fakeToken();
      credentials(afterRestore);
      await landed(afterRestore);
      const third = workers();
      expect(third).toHaveLength(1);
      expect(third[0]!.pid).not.toBe(second[0]!.pid);
      expect(statSync(layout.profiles).uid).toBe(CONTAINER_UID);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.on("exit", resolve));
    }
    expect(output).not.toMatch(/still privileged|stays readable/);
  }, 90_000);
});
