import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { requireBinary } from "../support/binary.ts";
import { boxHelpers } from "../support/box.ts";

const HOUR = 3_600_000;
let box: SystemdContainer;

/** A stand-in gateway unit that logs each start, so restarts can be counted. */
const gatewayUnit = (log: string) => `[Unit]
Description=stand-in OpenClaw gateway
[Service]
ExecStart=/bin/sh -c 'echo started >> ${log}; exec sleep infinity'
[Install]
WantedBy=default.target
`;

const { sh, writeInside, lingeringUser } = boxHelpers(() => box);

async function configure(gateway: Record<string, unknown>) {
  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR), 0o600);
  await writeInside(
    "/etc/oauth-sync/config.json",
    JSON.stringify({
      credentials: "/root/.claude/.credentials.json",
      targets: [{ kind: "env-file", path: "/opt/openclaw/.env" }],
      gateway: { settleSeconds: 0, ...gateway },
    }),
    0o600,
  );
}

beforeAll(async () => {
  box = await bootSystemd("oauth-sync-gw");
  await box.copyIn(requireBinary(), "/usr/local/bin/oauth-sync");
}, 600_000);

afterAll(async () => box?.stop());

describe("systemd gateway in a booted systemd", () => {
  test("a system unit is restarted after a change, and only then", async () => {
    await writeInside("/etc/systemd/system/openclaw-gateway.service", gatewayUnit("/var/log/gw.log"), 0o644);
    await sh("systemctl daemon-reload && systemctl enable --now openclaw-gateway.service");
    const pidBefore = await sh("systemctl show -p MainPID --value openclaw-gateway.service");
    await configure({ kind: "systemd" });

    const first = await box.exec(["oauth-sync", "sync"]);
    expect(first.code).toBe(0);
    expect(first.stderr + first.stdout).toContain("restarted openclaw-gateway.service");
    expect(await sh("systemctl show -p MainPID --value openclaw-gateway.service")).not.toBe(pidBefore);
    expect(await sh("wc -l < /var/log/gw.log")).toBe("2");

    const again = await box.exec(["oauth-sync", "sync"]);
    expect(again.code).toBe(0);
    expect(await sh("wc -l < /var/log/gw.log")).toBe("2");
  }, 120_000);

  test("a user unit is restarted through that user's manager", async () => {
    await sh("id claw >/dev/null 2>&1 || useradd -m claw");
    await writeInside("/home/claw/.config/systemd/user/openclaw-gateway.service", gatewayUnit("/home/claw/gw.log"), 0o644);
    await sh("chown -R claw:claw /home/claw/.config");
    await lingeringUser("claw");
    await sh("systemctl --user --machine=claw@ daemon-reload && systemctl --user --machine=claw@ enable --now openclaw-gateway.service");
    await configure({ kind: "systemd", user: "claw" });

    const result = await box.exec(["oauth-sync", "sync"]);
    expect(result.stderr + result.stdout).toContain("restarted openclaw-gateway.service (user claw)");
    expect(result.code).toBe(0);
    expect(await sh("wc -l < /home/claw/gw.log")).toBe("2");
  }, 120_000);

  test("a unit that fails to start is reported with where to look", async () => {
    await writeInside("/etc/systemd/system/broken-gateway.service", "[Service]\nExecStart=/bin/false\n", 0o644);
    await sh("systemctl daemon-reload");
    await configure({ kind: "systemd", unit: "broken-gateway.service" });
    const result = await box.exec(["oauth-sync", "sync"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("broken-gateway.service");
    expect(result.stderr).toMatch(/journalctl -u broken-gateway.service|failed/);
  }, 120_000);

  test("a unit systemd keeps restarting (Restart=on-failure, as OpenClaw's own) is a failed reload, not a restarted gateway", async () => {
    await writeInside("/etc/systemd/system/flapping-gateway.service", "[Service]\nExecStart=/bin/sh -c 'sleep 0.2; exit 1'\nRestart=on-failure\nRestartSec=300ms\n", 0o644);
    await sh("systemctl daemon-reload");
    await configure({ kind: "systemd", unit: "flapping-gateway.service" });
    const result = await box.exec(["oauth-sync", "sync"]);
    expect(result.code, result.stdout + result.stderr).toBe(4);
    expect(result.stderr).toMatch(/flapping-gateway\.service is (activating \(auto-restart\)|.*restarted by systemd \d+ time)/);
    await sh("systemctl stop flapping-gateway.service");
  }, 120_000);
});
