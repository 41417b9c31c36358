/**
 * What one tick of the backstop timer costs on a real systemd (the booted-systemd test bed): the installed
 * `oauth-sync-check.service` started N times outside the refresh window (the common tick: read the credentials, exit).
 * Printed per tick: the unit's own CPU as systemd accounts it ("Consumed … CPU time"), the CPU PID 1 and journald spend
 * on it, wall time, and the journal lines it leaves; as installed (`LogLevelMax=notice`: notices, warnings and errors
 * only), then with a drop-in that lets info through as well (the default for a unit: what was installed before).
 *   bun bench/check-tick.ts [ticks=60]
 * Anchor: the same binary's `check` run directly on the host, outside systemd, in the same run.
 */
import { readFileSync } from "node:fs";
import { credentialsJson, fakeToken } from "../src/demo/sandbox.ts";
import { bootSystemd } from "../test/bed/systemd.ts";
import { boxHelpers } from "../test/support/box.ts";
import { requireBinary } from "../test/support/binary.ts";

const ticks = Number(process.argv[2] ?? 60);
const HOUR = 3_600_000;
const box = await bootSystemd("oauth-sync-tick");
const { sh, writeInside } = boxHelpers(() => box);

/** utime + stime of a host pid, in ms (clock ticks of 10 ms). */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

try {
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
  await writeInside("/opt/openclaw/.env", "ANTHROPIC_OAUTH_TOKEN=\n");
  await writeInside("/root/config.json", JSON.stringify({ credentials: "/root/.claude/.credentials.json", targets: [{ kind: "env-file", path: "/opt/openclaw/.env" }] }));
  const installed = await box.exec(["/root/oauth-sync", "install", "--config", "/root/config.json", "--yes", "--no-test"]);
  if (installed.code !== 0) throw new Error(`install failed (${installed.code}): ${installed.stdout}${installed.stderr}`);
  await sh("systemctl stop oauth-sync-check.timer");
  // Started back to back here, not every 2 min: lift the start rate limit (5 starts in 10 s) for the measurement.
  await sh("mkdir -p /etc/systemd/system/oauth-sync-check.service.d && printf '[Unit]\\nStartLimitIntervalSec=0\\n[Service]\\nCPUAccounting=yes\\n' > /etc/systemd/system/oauth-sync-check.service.d/bench.conf && systemctl daemon-reload");
  // PID 1 and journald as the host sees them (the bed's PID 1 is box.pid).
  const journald = Number(await sh("systemctl show -p MainPID --value systemd-journald"));
  const journaldHost = Number(readFileSync(`/proc/${box.pid}/task/${box.pid}/children`, "utf8").trim().split(/\s+/).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/status`, "utf8").match(/^NSpid:\s+\d+\s+(\d+)/m)?.[1] === String(journald);
    } catch {
      return false;
    }
  }));

  const round = async (label: string) => {
    const cursor = (await sh("journalctl -n 0 --show-cursor --no-pager | tail -1")).replace(/^-- cursor: /, "");
    const [pid1Before, journaldBefore] = [cpuMs(box.pid), journaldHost ? cpuMs(journaldHost) : 0];
    const started = performance.now();
    for (let i = 0; i < ticks; i++) await sh("systemctl start oauth-sync-check.service");
    const wall = (performance.now() - started) / ticks;
    const [pid1, jd] = [(cpuMs(box.pid) - pid1Before) / ticks, journaldHost ? (cpuMs(journaldHost) - journaldBefore) / ticks : NaN];
    const lines = (await sh(`journalctl -u oauth-sync-check.service --after-cursor='${cursor}' --no-pager -o cat`)).split("\n").filter(Boolean);
    const consumed = lines.map((l) => /Consumed (\d+)ms CPU time/.exec(l)?.[1]).filter(Boolean).map(Number);
    const unitCpu = consumed.length ? consumed.reduce((a, b) => a + b, 0) / consumed.length : NaN;
    const unit = Number.isNaN(unitCpu) ? "n/a (no CPU accounting here)" : `${unitCpu.toFixed(1)} ms`;
    console.log(`${label.padEnd(28)} unit CPU ${unit}  PID 1 ${pid1.toFixed(1)} ms  journald ${jd.toFixed(1)} ms  wall ${wall.toFixed(0)} ms  journal lines ${(lines.length / ticks).toFixed(1)}/tick`);
    return lines.slice(0, 6);
  };

  const quiet = await round("as installed");
  console.log(`  a tick's lines:\n    ${quiet.slice(0, 5).join("\n    ") || "(none)"}`);
  await sh("printf '[Service]\\nLogLevelMax=info\\n' > /etc/systemd/system/oauth-sync-check.service.d/loud.conf && systemctl daemon-reload");
  const loud = await round("LogLevelMax=info (as before)");
  console.log(`  a tick's lines:\n    ${loud.slice(0, 5).join("\n    ")}`);

  // A tick with something to say: the token is in its window and the trigger cannot run (no claude in the bed).
  await sh("systemctl stop oauth-sync.service");
  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 3 * 60_000));
  const failing = async (label: string) => {
    const cursor = (await sh("journalctl -n 0 --show-cursor --no-pager | tail -1")).replace(/^-- cursor: /, "");
    await sh("systemctl start oauth-sync-check.service || true");
    await Bun.sleep(500);
    // The whole journal (the service is stopped): a line of a process that exited before journald read it may lack
    // the unit's fields.
    const kept = (await sh(`journalctl --after-cursor='${cursor}' --no-pager -o json`))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { PRIORITY: string; MESSAGE: string; _SYSTEMD_UNIT?: string; UNIT?: string })
      .map((entry) => `<${entry.PRIORITY}> ${entry._SYSTEMD_UNIT ?? entry.UNIT ?? "(no unit)"}: ${entry.MESSAGE}`)
      .join("\n");
    console.log(`a failing tick, ${label}, leaves:\n    ${kept.split("\n").join("\n    ")}`);
  };
  await sh("rm /etc/systemd/system/oauth-sync-check.service.d/loud.conf && systemctl daemon-reload");
  for (let i = 1; i <= 3; i++) await failing(`as installed (${i})`);

  // Anchor: the binary alone on the host, the same check, no systemd around it.
  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
  const hostConfig = `${box.root}/root/host-config.json`;
  await Bun.write(hostConfig, JSON.stringify({ credentials: `${box.root}/root/.claude/.credentials.json`, stateDir: `${box.root}/root/host-state`, targets: [{ kind: "env-file", path: `${box.root}/opt/openclaw/.env` }] }));
  let cpuUs = 0;
  const started = performance.now();
  for (let i = 0; i < ticks; i++) {
    const proc = Bun.spawnSync([requireBinary(), "check", "--config", hostConfig], { stdout: "ignore", stderr: "ignore" });
    if (proc.exitCode !== 0) throw new Error(`check on the host exited ${proc.exitCode}`);
    cpuUs += Number(proc.resourceUsage.cpuTime.total);
  }
  console.log(`${"anchor: check on the host".padEnd(28)} CPU ${(cpuUs / 1000 / ticks).toFixed(1)} ms  wall ${((performance.now() - started) / ticks).toFixed(0)} ms`);
} finally {
  await box.stop();
}
