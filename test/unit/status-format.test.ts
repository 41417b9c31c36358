import { describe, expect, test } from "bun:test";
import { formatStatus, targetState, type StatusReport } from "../../src/install/status.ts";

const healthy: StatusReport = {
  healthy: true,
  problems: [],
  credentials: { path: "/root/.claude/.credentials.json", fingerprint: "0123456789ab", expiresAt: "2026-06-01T20:00:00.000Z", timeLeft: "7h59m" },
  targets: [{ id: "env-file:/opt/openclaw/.env", kind: "env-file", holdsCurrent: true, fingerprint: "0123456789ab", syncedAt: "2026-06-01T12:00:00.000Z" }],
  gateway: { kind: "compose", pending: false, lastReloadAt: "2026-06-01T12:00:01.000Z" },
  units: { service: "active", timer: "active", nextCheck: "Mon 2026-06-01 12:03:00 UTC" },
  reauthFlag: { path: "/var/lib/oauth-sync/REAUTH_NEEDED", present: false },
  watch: { missedRotations: 0 },
  state: { dir: "/var/lib/oauth-sync", writable: true, writtenAt: "2026-06-01T12:00:01.000Z" },
  openclaw: [],
};

describe("status as text", () => {
  test("a healthy host: no line sounds an alarm", () => {
    const text = formatStatus(healthy);
    expect(text).toContain("watcher   ok");
    expect(text).not.toMatch(/missed|error|STALE|FAILING/);
    expect(text).toContain("target    ok    env-file:/opt/openclaw/.env, synced 2026-06-01T12:00:00.000Z");
    expect(text.endsWith("\nhealthy")).toBe(true);
  });

  test("missed rotations are counted when there are some", () => {
    const text = formatStatus({ ...healthy, watch: { missedRotations: 2, lastMissedAt: "2026-06-01T11:00:00.000Z", lastMissedBy: "look" } });
    expect(text).toContain("watcher   2 rotation(s) missed by the watcher and caught by a safety net (last 2026-06-01T11:00:00.000Z, look)");
  });

  test("one state per target line: an error wins over the token it holds", () => {
    expect(targetState({ holdsCurrent: true })).toBe("ok");
    expect(targetState({ holdsCurrent: false })).toBe("STALE");
    expect(targetState({ holdsCurrent: true, lastError: "reload failed" })).toBe("FAILING");
    const host = { id: "ssh:root@gw2:22", kind: "ssh", holdsCurrent: true, lastError: "receiver reload-failed: boom", push: { failures: 2, nextRetryAt: "2026-06-01T12:05:00.000Z" } };
    const lines = formatStatus({ ...healthy, healthy: false, problems: ["a", "b"], targets: [host] }).split("\n");
    const line = lines.find((l) => l.includes("ssh:root@gw2:22"))!;
    expect(line).toBe("host      FAILING ssh:root@gw2:22: receiver reload-failed: boom (it holds the current token); retry 2026-06-01T12:05:00.000Z");
    expect(line).not.toMatch(/\bok\b/);
    expect(lines.at(-1)).toBe("problem: a (and 1 more: `oauth-sync status --json`)");
  });

  test("text quoted from elsewhere cannot add a line or steer the terminal", () => {
    const tail = "container exited\n[error] oauth-sync: root login expired\x1b]52;c;Y3VybA==\x07\x1b[2K\r";
    const report: StatusReport = {
      ...healthy,
      healthy: false,
      problems: [`a gateway reload is owed: ${tail}`],
      targets: [{ ...healthy.targets[0]!, lastError: tail }],
      gateway: { kind: "compose", pending: true, lastError: tail },
      openclaw: [{ source: "openclaw (HOME=/home/a\nb)", status: "ok\x1b[8m", type: "token" }],
    };
    const text = formatStatus(report);
    expect(text).toContain("gateway   compose, reload OWED: container exited\\n[error] oauth-sync: root login expired\\x1b]52;c;Y3VybA==\\x07\\x1b[2K\\r");
    expect(text.split("\n")).toHaveLength(formatStatus(healthy).split("\n").length + 1);
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(text.split("\n").filter((l) => l.startsWith("[error]"))).toEqual([]);
    expect(text).toContain("\\x1b]52;c;Y3VybA==\\x07");
  });
});
