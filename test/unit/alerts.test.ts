import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createAlerts } from "../../src/notify/alerts.ts";
import type { NotifyEvent } from "../../src/notify/event.ts";
import { logger } from "../../src/log/logger.ts";

/** The one alerts keeper: fed outcomes, it owns the streaks, the threshold, the reminders and the end of a streak. */

const HOUR = 3_600_000;
const lines: string[] = [];
const reporters = logger.options.reporters;
beforeAll(() => logger.setReporters([{ log: (entry) => void lines.push(entry.args.join(" ")) }]));
afterAll(() => logger.setReporters(reporters));
afterEach(() => void lines.splice(0));

function keeper(threshold = 3) {
  let now = Date.parse("2026-05-01T12:00:00Z");
  const events: NotifyEvent[] = [];
  const alerts = createAlerts({ now: () => now, notify: async (e) => void events.push(e), settings: () => ({ failureThreshold: threshold, reminderHours: 4, host: "gw1" }) });
  return { alerts, events, later: (ms: number) => void (now += ms) };
}

describe("createAlerts", () => {
  test("a message when a streak reaches the threshold, reminders while it lasts, the end logged", async () => {
    const { alerts, events, later } = keeper();
    for (let i = 0; i < 5; i++) {
      await alerts.record("sync", { ok: false, error: "env-file: EACCES" });
      later(60_000);
    }
    expect(events.map((e) => [e.kind, e.details?.count])).toEqual([["sync-failing", 3]]);
    later(4 * HOUR);
    await alerts.record("sync", { ok: false, error: "env-file: EACCES" });
    expect(events.map((e) => e.details?.count)).toEqual([3, 6]);
    await alerts.record("sync", { ok: true });
    expect(lines).toContain("sync works again");
    // A new streak starts from nothing.
    await alerts.record("sync", { ok: false, error: "again" });
    expect(events).toHaveLength(2);
  });

  test("each key its own streak and its own event: reload, state, a push to one host", async () => {
    const { alerts, events } = keeper(1);
    await alerts.record("reload", { ok: false, error: "compose: exit 1" });
    await alerts.record("state", { ok: false, error: "EROFS" });
    await alerts.record("push:ssh:root@gw2:22", { ok: false, error: "refused the connection" });
    await alerts.record("push:ssh:root@gw3:22", { ok: true });
    expect(events.map((e) => e.kind)).toEqual(["reload-failing", "state-failing", "push-failing"]);
    expect(events[2]!.title).toContain("ssh:root@gw2:22");
    expect(events[1]!.text).toContain("Syncing goes on");
    await alerts.record("push:ssh:root@gw2:22", { ok: true });
    expect(lines).toContain("ssh:root@gw2:22: pushing works again");
  });

  test("a streak a reporter knows to be longer (restored from the state file after a restart) counts from there", async () => {
    const { alerts, events } = keeper(3);
    await alerts.record("reload", { ok: false, error: "down", failures: 5 });
    expect(events.map((e) => [e.kind, e.details?.count])).toEqual([["reload-failing", 5]]);
  });

  test("a streak nobody was told about ends quietly; a webhook that fails never throws at the reporter", async () => {
    const { alerts } = keeper(3);
    await alerts.record("sync", { ok: false, error: "x" });
    await alerts.record("sync", { ok: true });
    expect(lines).toEqual([]);
    const failing = createAlerts({ now: Date.now, notify: async () => Promise.reject(new Error("webhook down")), settings: () => ({ failureThreshold: 1, reminderHours: 4 }) });
    await failing.record("state", { ok: false, error: "EROFS" });
  });
});

describe("a token in a format this release does not accept", () => {
  test("said at once (no streak to wait for), with the release; reminded, not repeated; the sync streak is another", async () => {
    const { alerts, events, later } = keeper(3);
    const message = "/root/.claude/.credentials.json: the access token holds a character no release of Claude Code writes";
    await alerts.record("token-format", { ok: false, error: message });
    await alerts.record("token-format", { ok: false, error: message });
    expect(events.map((e) => e.kind)).toEqual(["token-format"]);
    expect(events[0]!.text).toContain(message);
    later(4 * HOUR);
    await alerts.record("token-format", { ok: false, error: message });
    expect(events.map((e) => e.kind)).toEqual(["token-format", "token-format"]);
    await alerts.record("token-format", { ok: true });
    expect(lines).toContain("the token's format is accepted again");
  });
});
