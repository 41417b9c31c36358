/**
 * Users on one host, in a booted systemd: a `--user` install with linger that syncs both of its user's agents and
 * restarts its user's own gateway through its own bus; a second user's install beside it; and root's `install --yes`,
 * which pairs a login only with an OpenClaw of the same user unless told otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { boxHelpers } from "../support/box.ts";
import { requireBinary } from "../support/binary.ts";
import { waitForToken } from "../../src/demo/sandbox.ts";

const HOUR = 3_600_000;
let box: SystemdContainer;
const { sh, writeInside, lingeringUser } = boxHelpers(() => box);
const uids: Record<string, number> = {};

/** A user with linger, a Claude login, a native OpenClaw (2026.4: each write reloads) with `agents`, and its gateway as a user unit. */
async function person(name: string, agents: string[]) {
  uids[name] = await lingeringUser(name);
  const home = `/home/${name}`;
  await writeInside(`${home}/.claude/.credentials.json`, credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
  await writeInside(`${home}/.openclaw/openclaw.json`, JSON.stringify({ meta: { lastTouchedVersion: "2026.4.27" }, agents: { list: agents.map((id) => ({ id })) } }));
  for (const agent of agents) await mkdir(join(box.root, home, ".openclaw/agents", agent, "agent"), { recursive: true });
  await writeInside(`${home}/.config/systemd/user/openclaw-gateway.service`, "[Service]\nExecStart=/bin/sleep infinity\n", 0o644);
  await box.copyIn(requireBinary(), `${home}/oauth-sync`);
  await sh(`chown -R ${name}:${name} ${home} && chmod 700 ${home}/.openclaw ${home}/.claude`);
  await as(name, "systemctl", "--user", "daemon-reload");
  await as(name, "systemctl", "--user", "start", "openclaw-gateway.service");
}

/** A login shell's environment for `name`: its HOME, USER and runtime dir, nothing of root's. */
const as = (name: string, ...argv: string[]) =>
  box.exec(["runuser", "-u", name, "--", "env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", `HOME=/home/${name}`, `USER=${name}`, `XDG_RUNTIME_DIR=/run/user/${uids[name]}`, ...argv]);
const gatewayPid = async (name: string) => (await as(name, "systemctl", "--user", "show", "-p", "MainPID", "--value", "openclaw-gateway.service")).stdout.trim();

async function rotate(name: string, token: string) {
  const file = join(box.root, `home/${name}/.claude/.credentials.json`);
  await writeFile(`${file}.tmp`, credentialsJson(token, Date.now() + 9 * HOUR), { mode: 0o600 });
  await sh(`chown ${name}:${name} /home/${name}/.claude/.credentials.json.tmp`);
  await rename(`${file}.tmp`, file);
}

beforeAll(async () => {
  box = await bootSystemd("oauth-sync-users");
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  await person("carol", ["main", "work"]);
  await person("dave", ["main"]);
}, 600_000);

afterAll(async () => box?.stop());

describe("install --user with linger", () => {
  test("carol installs for herself: both agents, her own gateway unit, the --user forms of every hint", async () => {
    const result = await as("carol", "/home/carol/oauth-sync", "install", "--user", "--yes", "--no-test", "--trigger", "none");
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    const config = JSON.parse(await readFile(join(box.root, "home/carol/.config/oauth-sync/config.json"), "utf8"));
    expect(config.targets.map((t: { path: string }) => t.path)).toEqual(["/home/carol/.openclaw/agents/main/agent/auth-profiles.json", "/home/carol/.openclaw/agents/work/agent/auth-profiles.json"]);
    expect(config.gateway).toEqual({ kind: "systemd", unit: "openclaw-gateway.service", user: "carol" });
    expect(output).toContain("systemctl --user status oauth-sync · journalctl --user -u oauth-sync -f · oauth-sync status");
    expect(output).not.toMatch(/[^-]systemctl status oauth-sync|sudo oauth-sync/);
    expect(output).toContain("healthy");
  }, 120_000);

  test("a rotation reaches both agents and the user's gateway is restarted through her own bus; status and reload need no flag", async () => {
    const before = await gatewayPid("carol");
    const token = fakeToken();
    await rotate("carol", token);
    const paths = ["main", "work"].map((a) => join(box.root, `home/carol/.openclaw/agents/${a}/agent/auth-profiles.json`));
    await waitForToken(paths, token, 15_000);
    const started = Date.now();
    while ((await gatewayPid("carol")) === before) {
      if (Date.now() - started > 15_000) throw new Error(`carol's gateway was never restarted:\n${(await as("carol", "journalctl", "--user", "-u", "oauth-sync", "--no-pager", "-n", "20")).stdout}`);
      await Bun.sleep(100);
    }
    let report = JSON.parse((await as("carol", "/home/carol/.local/bin/oauth-sync", "status", "--json")).stdout);
    for (let i = 0; i < 100 && report.gateway.pending; i++) {
      await Bun.sleep(100);
      report = JSON.parse((await as("carol", "/home/carol/.local/bin/oauth-sync", "status", "--json")).stdout);
    }
    expect(report.gateway).toMatchObject({ kind: "systemd", pending: false });
    expect(report.gateway.lastError).toBeUndefined();
    expect(report.healthy, report.problems.join("\n")).toBe(true);
    const pid = await gatewayPid("carol");
    const reload = await as("carol", "/home/carol/.local/bin/oauth-sync", "reload");
    expect(reload.code, reload.stdout + reload.stderr).toBe(0);
    expect(reload.stdout + reload.stderr).toContain("restarted openclaw-gateway.service");
    expect(await gatewayPid("carol")).not.toBe(pid);
  }, 120_000);

  test("dave's install beside hers: each rotation reaches only its own user's agents", async () => {
    const result = await as("dave", "/home/dave/oauth-sync", "install", "--user", "--yes", "--no-test", "--trigger", "none");
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const carolMain = join(box.root, "home/carol/.openclaw/agents/main/agent/auth-profiles.json");
    const carolHolds = await readFile(carolMain, "utf8");
    const token = fakeToken();
    await rotate("dave", token);
    await waitForToken([join(box.root, "home/dave/.openclaw/agents/main/agent/auth-profiles.json")], token, 15_000);
    expect(await readFile(carolMain, "utf8")).toBe(carolHolds);
    expect((await as("dave", "systemctl", "--user", "is-active", "oauth-sync.service")).stdout.trim()).toBe("active");
    expect((await as("carol", "systemctl", "--user", "is-active", "oauth-sync.service")).stdout.trim()).toBe("active");
    // Every verb finds a user install's own config without --config (not /etc's, which they cannot read).
    const check = await as("dave", "/home/dave/.local/bin/oauth-sync", "config", "check");
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain("/home/dave/.config/oauth-sync/config.json: ok");
  }, 120_000);
});

describe("root's install --yes never pairs across users silently", () => {
  test("a login of one user with another user's OpenClaw is refused, naming the flag; with it, proposed", async () => {
    const flags = ["install", "--yes", "--dry-run", "--no-test", "--trigger", "none", "--credentials", "/home/carol/.claude/.credentials.json", "--openclaw-dir", "/home/dave/.openclaw"];
    const refused = await box.exec(["/root/oauth-sync", ...flags]);
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stderr).toContain("is carol's and the OpenClaw /home/dave/.openclaw is dave's");
    expect(refused.stderr).toContain("--cross-user");
    const paired = await box.exec(["/root/oauth-sync", ...flags, "--cross-user"]);
    expect(paired.code, paired.stdout + paired.stderr).toBe(0);
    expect(paired.stdout).toContain('"credentials": "/home/carol/.claude/.credentials.json"');
  }, 60_000);

  test("root's own login and OpenClaw are paired even where another user's install scores higher", async () => {
    await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 20 * HOUR)); // the longest-lived login
    await writeInside("/root/.openclaw/openclaw.json", JSON.stringify({ meta: { lastTouchedVersion: "2026.4.27" } }));
    await mkdir(join(box.root, "root/.openclaw/agents/main/agent"), { recursive: true });
    await sh("rm -rf /home/carol/.claude /home/dave/.claude"); // their installs score higher, and have no login of their own
    const dry = await box.exec(["/root/oauth-sync", "install", "--yes", "--dry-run", "--no-test", "--trigger", "none"]);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    const proposed = dry.stdout.slice(dry.stdout.indexOf("config to install:"));
    expect(proposed).toContain('"credentials": "/root/.claude/.credentials.json"');
    expect(proposed).toContain('"path": "/root/.openclaw/agents/main/agent/auth-profiles.json"');
    expect(proposed).not.toContain("/home/carol/.openclaw");
  }, 60_000);
});
