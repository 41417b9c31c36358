import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { boxHelpers } from "../support/box.ts";
import { requireBinary } from "../support/binary.ts";
import { waitUntil } from "../support/wait.ts";
import { tempDirs } from "../support/temp.ts";

const temp = tempDirs();

const HOUR = 3_600_000;
const PROFILES = "/opt/openclaw/config/agents/main/agent/auth-profiles.json";
const ENV_FILE = "/opt/openclaw/.env";
let box: SystemdContainer;
const { sh, writeInside, rotateInside, waitInside, lingeringUser } = boxHelpers(() => box);
let upgraded: string;

const mainPid = () => sh("systemctl show -p MainPID --value oauth-sync.service");
/** `status` until it exits 0 (at most 15 s); the last answer either way, for the caller's assertion. */
async function healthySoon(status: () => Promise<{ code: number; stdout: string; stderr: string }>) {
  let last = { code: -1, stdout: "", stderr: "" };
  await waitUntil("status to be healthy", async () => (last = await status()).code === 0, { timeoutMs: 15_000, intervalMs: 100, onTimeout: "continue" });
  return last;
}

beforeAll(async () => {
  // A second build with another version, to prove an upgrade over the running service.
  upgraded = join(temp("oauth-sync-upgrade-"), "oauth-sync");
  const build = Bun.spawnSync([process.execPath, "build.ts", "--outfile", upgraded], { cwd: join(import.meta.dir, "../.."), env: { ...process.env, OAUTH_SYNC_VERSION: "9.9.9-upgrade" } });
  if (build.exitCode !== 0) throw new Error(build.stderr.toString());
  box = await bootSystemd("oauth-sync-install");
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  await box.copyIn(upgraded, "/root/upgrade/oauth-sync");
  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
  await writeInside(ENV_FILE, "# compose settings\nANTHROPIC_OAUTH_TOKEN=\n", 0o600);
  // OpenClaw's config dir belongs to the container's uid 1000 (no such user in this root): the hardened service
  // must write there as uid 1000, through a child of itself.
  await mkdir(join(box.root, "opt/openclaw/config"), { recursive: true });
  await sh("chown 1000:1000 /opt/openclaw/config && chmod 755 /opt/openclaw /opt/openclaw/config");
  // An earlier config left readable by all: install must tighten it before it writes secrets into it.
  await writeInside("/etc/oauth-sync/config.json", "{}\n", 0o644);
  await writeInside(
    "/root/config.json",
    JSON.stringify({
      credentials: "/root/.claude/.credentials.json",
      targets: [
        { kind: "openclaw-auth-profiles", path: PROFILES },
        { kind: "env-file", path: ENV_FILE },
      ],
      trigger: { mode: "none" },
    }),
  );
}, 600_000);

afterAll(async () => box?.stop());

describe("oauth-sync install in a booted systemd", () => {
  test("install --config --yes: binary, config 0600, units verified, enabled and active, timer scheduled", async () => {
    const dry = await box.exec(["/root/oauth-sync", "install", "--config", "/root/config.json", "--yes", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("would create /etc/systemd/system/oauth-sync.service");
    expect(dry.stdout).toContain("would run: systemctl enable --now oauth-sync.service oauth-sync-check.timer");
    expect((await box.exec(["test", "-e", "/etc/systemd/system/oauth-sync.service"])).code).not.toBe(0);

    const result = await box.exec(["/root/oauth-sync", "install", "--config", "/root/config.json", "--yes"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await sh("stat -c %a /etc/oauth-sync/config.json")).toBe("600");
    expect(JSON.parse(await sh("/usr/local/bin/oauth-sync --version --json")).version).toBe(JSON.parse(await readFile(join(import.meta.dir, "../../package.json"), "utf8")).version);
    expect(await sh("systemctl is-active oauth-sync.service")).toBe("active");
    expect(await sh("systemctl is-enabled oauth-sync.service oauth-sync-check.timer")).toBe("enabled\nenabled");
    expect(await sh("systemctl is-active oauth-sync-check.timer")).toBe("active");
    expect(await sh("systemctl show -p NextElapseUSecRealtime --value oauth-sync-check.timer")).not.toBe("");
    expect((await box.exec(["systemd-analyze", "verify", "/etc/systemd/system/oauth-sync.service", "/etc/systemd/system/oauth-sync-check.timer"])).code).toBe(0);
    const security = await box.exec(["systemd-analyze", "security", "--no-pager", "oauth-sync.service"]);
    const overall = security.stdout.trim().split("\n").at(-1) ?? "";
    console.log(`systemd-analyze security oauth-sync.service: ${overall}`);
    expect(Number(/level for \S+: ([\d.]+)/.exec(overall)?.[1])).toBeLessThanOrEqual(2.7); // no worse than before issue 8
    for (const unit of ["oauth-sync.service", "oauth-sync-check.service"]) {
      expect(await sh(`systemctl show -p MemoryMax -p TasksMax ${unit}`)).toBe("MemoryMax=1073741824\nTasksMax=128");
    }
  }, 120_000);

  test("a rotation inside reaches the targets through the installed service; status is healthy", async () => {
    const token = fakeToken();
    await rotateInside(token, Date.now() + 9 * HOUR);
    await waitInside(PROFILES, token);
    await waitInside(ENV_FILE, token);
    expect(await sh(`stat -c '%u:%g %a' ${PROFILES} /opt/openclaw/config/agents`)).toBe("1000:1000 600\n1000:1000 700");
    // The service records what a target holds after writing it: status may see the file before the record.
    const status = await healthySoon(() => box.exec(["oauth-sync", "status", "--config", "/etc/oauth-sync/config.json"]));
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toContain("healthy");
    expect(status.stdout).not.toContain(token);
    const json = JSON.parse((await box.exec(["oauth-sync", "status", "--json", "--config", "/etc/oauth-sync/config.json"])).stdout);
    expect(json.healthy).toBe(true);
    expect(json.targets.every((t: { holdsCurrent: boolean }) => t.holdsCurrent)).toBe(true);
    expect(json.units.service).toBe("active");
  }, 60_000);

  test("a second install changes nothing and restarts nothing", async () => {
    const pid = await mainPid();
    const result = await box.exec(["/root/oauth-sync", "install", "--config", "/root/config.json", "--yes"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("nothing changed");
    expect(await mainPid()).toBe(pid);
  }, 60_000);

  test("an upgrade with a new binary replaces it and restarts the service", async () => {
    const pid = await mainPid();
    const result = await box.exec(["/root/upgrade/oauth-sync", "install", "--config", "/root/config.json", "--yes"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("restarted: oauth-sync.service");
    expect(JSON.parse(await sh("/usr/local/bin/oauth-sync --version --json")).version).toBe("9.9.9-upgrade");
    expect(await mainPid()).not.toBe(pid);
    const token = fakeToken();
    await rotateInside(token, Date.now() + 10 * HOUR);
    await waitInside(ENV_FILE, token);
  }, 60_000);

  test("a changed config restarts only the service; a target's missing directory is created for the sandboxed service", async () => {
    const timerSince = await sh("systemctl show -p ActiveEnterTimestampMonotonic --value oauth-sync-check.timer");
    const pid = await mainPid();
    const config = JSON.parse(await readFile(join(box.root, "root/config.json"), "utf8"));
    config.targets.push({ kind: "env-file", path: "/srv/new-project/.env" });
    await writeInside("/root/config.json", JSON.stringify(config));
    const dry = await box.exec(["/root/upgrade/oauth-sync", "install", "--config", "/root/config.json", "--yes", "--dry-run"]);
    expect(dry.stdout).toContain("would create the directory /srv/new-project");
    expect((await box.exec(["test", "-e", "/srv/new-project"])).code).not.toBe(0);

    const result = await box.exec(["/root/upgrade/oauth-sync", "install", "--config", "/root/config.json", "--yes"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("restarted: oauth-sync.service\n");
    expect(result.stdout).not.toContain("/usr/local/bin/oauth-sync,");
    expect(await mainPid()).not.toBe(pid);
    expect(await sh("systemctl show -p ActiveEnterTimestampMonotonic --value oauth-sync-check.timer")).toBe(timerSince);
    expect(await sh("stat -c '%a %U' /srv/new-project")).toBe("700 root");
    expect(await sh("grep ReadWritePaths /etc/systemd/system/oauth-sync.service")).toContain("-/srv/new-project");
    const token = fakeToken();
    await rotateInside(token, Date.now() + 10.5 * HOUR);
    await waitInside("/srv/new-project/.env", token);
    await waitInside(PROFILES, token);
  }, 60_000);

  test("status names the first problem and exits non-zero when the service is down", async () => {
    await sh("systemctl stop oauth-sync.service");
    const status = await box.exec(["oauth-sync", "status", "--config", "/etc/oauth-sync/config.json"]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain("problem: oauth-sync.service is inactive");
    await sh("systemctl start oauth-sync.service");
  }, 60_000);

  test("uninstall removes the units and the binary, keeps the config; a second uninstall is harmless", async () => {
    const result = await box.exec(["oauth-sync", "uninstall"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await sh("systemctl list-unit-files 'oauth-sync*' --no-legend | wc -l")).toBe("0");
    expect((await box.exec(["test", "-e", "/usr/local/bin/oauth-sync"])).code).not.toBe(0);
    expect((await box.exec(["test", "-e", "/etc/oauth-sync/config.json"])).code).toBe(0);
    const again = await box.exec(["/root/oauth-sync", "uninstall"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("nothing to remove");
  }, 60_000);
});

describe("oauth-sync install --yes with detection, in a booted systemd", () => {
  test("finds the Claude login and a native OpenClaw, installs a config for its era, syncs; uninstall --purge removes all", async () => {
    // The config the suite above kept is not this test's: gone first (an install over it would keep what it says).
    expect((await box.exec(["/root/oauth-sync", "uninstall", "--purge"])).code).toBe(0);
    await writeInside("/root/.openclaw/openclaw.json", JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } }));
    // A stand-in `claude` on PATH: the install's live trigger test runs it, and must not print the token it prints.
    const leaked = fakeToken();
    await writeInside("/usr/local/bin/claude", `#!/bin/sh\necho '{"loggedIn": true, "debugToken": "${leaked}"}'\necho "args: $*"\n`, 0o755);
    await mkdir(join(box.root, "root/.openclaw/agents/main/agent"), { recursive: true });
    const dry = await box.exec(["/root/oauth-sync", "install", "--yes", "--dry-run"]);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain("→ /root/.claude/.credentials.json (uid 0)");
    expect(dry.stdout).toContain("native: /root/.openclaw exists, release 2026.5.28");
    expect(dry.stdout).toContain('"path": "/root/.openclaw/agents/main/agent/auth-profiles.json"');
    expect(dry.stdout).not.toContain("sk-ant-");

    const result = await box.exec(["/root/oauth-sync", "install", "--yes"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("refresh trigger test: claude auth status → exit 0");
    expect(result.stdout).toContain("args: auth status");
    expect(result.stdout + result.stderr).not.toContain(leaked);
    expect(JSON.parse(await readFile(join(box.root, "etc/oauth-sync/config.json"), "utf8")).trigger).toEqual({ mode: "host" });
    const token = fakeToken();
    await rotateInside(token, Date.now() + 11 * HOUR);
    await waitInside("/root/.openclaw/agents/main/agent/auth-profiles.json", token);

    const purge = await box.exec(["oauth-sync", "uninstall", "--purge"]);
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
    expect((await box.exec(["test", "-e", "/etc/oauth-sync/config.json"])).code).not.toBe(0);
    expect(await sh("systemctl list-unit-files 'oauth-sync*' --no-legend | wc -l")).toBe("0");
  }, 120_000);

  test("flags answer the questions: --trigger none, --credentials", async () => {
    const dry = await box.exec(["/root/oauth-sync", "install", "--yes", "--dry-run", "--trigger", "none", "--credentials", "/root/.claude/.credentials.json"]);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain('"mode": "none"');
    expect(dry.stdout).toContain("→ /root/.claude/.credentials.json");
  }, 60_000);

  test("without a terminal and without --yes it asks for --yes instead of guessing", async () => {
    const result = await box.exec(["/root/oauth-sync", "install"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("re-run with --yes");
  }, 60_000);
});

describe("oauth-sync install --user, in a booted systemd", () => {
  test("a user installs user units into their own manager; status and uninstall work the same", async () => {
    expect(await lingeringUser("claw")).toBe(1000);
    await box.copyIn(requireBinary(), "/home/claw/oauth-sync");
    await writeInside("/home/claw/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
    await writeInside(
      "/home/claw/config.json",
      JSON.stringify({ credentials: "/home/claw/.claude/.credentials.json", targets: [{ kind: "env-file", path: "/home/claw/openclaw/.env" }], trigger: { mode: "none" } }),
    );
    await sh("chown -R claw:claw /home/claw");
    const asClaw = (...argv: string[]) => box.exec(["runuser", "-u", "claw", "--", "env", "HOME=/home/claw", "USER=claw", "XDG_RUNTIME_DIR=/run/user/1000", ...argv]);

    const result = await asClaw("/home/claw/oauth-sync", "install", "--user", "--config", "/home/claw/config.json", "--yes");
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await sh("test -x /home/claw/.local/bin/oauth-sync && stat -c %a /home/claw/.config/oauth-sync/config.json")).toBe("600");
    const units = await asClaw("systemctl", "--user", "status", "--no-pager", "oauth-sync.service", "oauth-sync-check.timer");
    expect((await asClaw("systemctl", "--user", "is-active", "oauth-sync.service", "oauth-sync-check.timer")).stdout.trim(), units.stdout + units.stderr).toBe("active\nactive");

    const token = fakeToken();
    const file = join(box.root, "home/claw/.claude/.credentials.json");
    await writeFile(`${file}.tmp`, credentialsJson(token, Date.now() + 9 * HOUR), { mode: 0o600 });
    await sh("chown claw:claw /home/claw/.claude/.credentials.json.tmp");
    await rename(`${file}.tmp`, file);
    await waitInside("/home/claw/openclaw/.env", token);

    // --user finds the user install's config by itself.
    const status = await healthySoon(() => asClaw("/home/claw/.local/bin/oauth-sync", "status", "--user"));
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const gone = await asClaw("/home/claw/.local/bin/oauth-sync", "uninstall", "--user");
    expect(gone.code, gone.stdout + gone.stderr).toBe(0);
    expect((await asClaw("systemctl", "--user", "list-unit-files", "oauth-sync*", "--no-legend")).stdout.trim()).toBe("");
  }, 120_000);
});

describe("a native OpenClaw run by its user's own systemd manager, in a booted systemd", () => {
  test("the user unit is detected; the hardened system service writes as the user, and restarts the unit only where a reload is wanted", async () => {
    expect(await lingeringUser("claw")).toBe(1000);
    await writeInside("/home/claw/.openclaw/openclaw.json", JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } }));
    await writeInside("/home/claw/.openclaw/agents/main/agent/auth-profiles.json", "{}\n");
    await writeInside("/home/claw/.config/systemd/user/openclaw-gateway.service", "[Service]\nExecStart=/bin/sleep infinity\n", 0o644);
    await writeInside("/home/claw/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
    await sh("chown -R claw:claw /home/claw && chmod 700 /home/claw/.openclaw");
    const gateway = "systemctl --user --machine=claw@ show -p MainPID --value openclaw-gateway.service";
    await sh("systemctl --user --machine=claw@ daemon-reload && systemctl --user --machine=claw@ start openclaw-gateway.service");
    const before = await sh(gateway);

    const flags = ["--yes", "--no-test", "--trigger", "none", "--credentials", "/home/claw/.claude/.credentials.json", "--openclaw-dir", "/home/claw/.openclaw"];
    const result = await box.exec(["/root/oauth-sync", "install", ...flags]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("openclaw-gateway.service: /home/claw/.config/systemd/user/openclaw-gateway.service (user unit of claw)");
    expect(JSON.parse(await readFile(join(box.root, "etc/oauth-sync/config.json"), "utf8")).gateway).toEqual({ kind: "systemd", unit: "openclaw-gateway.service", user: "claw" });
    expect(await sh("grep CapabilityBoundingSet /etc/systemd/system/oauth-sync.service")).toContain("CAP_SYS_ADMIN");

    const token = fakeToken();
    const file = join(box.root, "home/claw/.claude/.credentials.json");
    await writeFile(`${file}.tmp`, credentialsJson(token, Date.now() + 9 * HOUR), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    await waitInside("/home/claw/.openclaw/agents/main/agent/auth-profiles.json", token);
    expect(await sh("stat -c %U /home/claw/.openclaw/agents/main/agent/auth-profiles.json")).toBe("claw");
    // 2026.5 re-reads auth-profiles.json by itself (measured, docs/FIELD-MAPPING.md): the proposal reloads nothing.
    const installed = JSON.parse(await readFile(join(box.root, "etc/oauth-sync/config.json"), "utf8"));
    expect(installed.targets[0].reload).toBe(false);
    await Bun.sleep(3000); // longer than the reload's settle time
    expect(await sh(gateway)).toBe(before);

    // Where a reload is wanted, the hardened system service restarts the user's unit through the user's manager.
    installed.targets[0].reload = true;
    await writeInside("/etc/oauth-sync/config.json", JSON.stringify(installed));
    // `systemctl reload` (SIGHUP) applies it: the hardened service starts afresh within its process, same main pid.
    const mainPid = await sh("systemctl show -p MainPID --value oauth-sync.service");
    const starts = async () => Number(await sh(`journalctl -u oauth-sync --no-pager -o cat | grep -c 'pid ${mainPid})' || true`));
    const startsBefore = await starts();
    await sh("systemctl reload oauth-sync.service");
    await waitUntil("the service to start afresh", async () => (await starts()) !== startsBefore, { timeoutMs: 15_000, intervalMs: 100, onTimeout: "continue" });
    expect(await starts()).toBe(startsBefore + 1);
    expect(await sh("journalctl -u oauth-sync --no-pager -o cat")).toContain("applying it, the service starts afresh");
    expect(await sh("systemctl show -p MainPID --value oauth-sync.service")).toBe(mainPid);
    expect(await sh("systemctl is-active oauth-sync.service")).toBe("active");
    const next = fakeToken();
    await writeFile(`${file}.tmp`, credentialsJson(next, Date.now() + 10 * HOUR), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    await waitInside("/home/claw/.openclaw/agents/main/agent/auth-profiles.json", next);
    await waitUntil("the gateway restarted", async () => (await sh(gateway)) !== before, { timeoutMs: 15_000, intervalMs: 100, detail: () => sh("journalctl -u oauth-sync --no-pager | tail -20") });
    // The first sync at start and the rotation may each owe a reload (settled 2 s apart): wait until none is owed.
    const status = async () => JSON.parse((await box.exec(["oauth-sync", "status", "--json"])).stdout);
    await waitUntil("no reload owed", async () => !(await status()).gateway.pending, { timeoutMs: 20_000, intervalMs: 100, onTimeout: "continue" });
    const report = await status();
    expect(report.gateway).toMatchObject({ kind: "systemd", pending: false });
    expect(report.gateway.lastError).toBeUndefined();
    expect(report.healthy, report.problems.join("\n")).toBe(true);
    expect((await box.exec(["oauth-sync", "uninstall", "--purge"])).code).toBe(0);
  }, 120_000);
});
