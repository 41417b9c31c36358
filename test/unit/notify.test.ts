import { describe, expect, test } from "bun:test";
import { reauthEvent, testEvent } from "../../src/notify/event.ts";
import { formatEvent, webhookLabel } from "../../src/notify/format.ts";
import { onFailure, onSuccess, emptyStreak } from "../../src/notify/policy.ts";
import { notifyAll } from "../../src/notify/send.ts";

const T0 = Date.parse("2026-05-01T12:00:00Z");
const HOUR = 3_600_000;
const event = reauthEvent("reauth-needed", "gw1", T0, { reason: "refresh token rejected", since: "2026-05-01T12:00:00.000Z", fix: "claude auth login", flagFile: "/opt/oc/REAUTH_NEEDED" });

describe("formatEvent", () => {
  test("mattermost and slack: {text}; discord: {content}", () => {
    expect(JSON.parse(formatEvent(event, "mattermost").body).text).toContain("needs a new sign-in");
    expect(JSON.parse(formatEvent(event, "slack").body).text).toStartWith("*Claude login on gw1");
    expect(JSON.parse(formatEvent(event, "discord").body).content).toContain("claude auth login");
  });
  test("ntfy: plain text, title and priority headers", () => {
    const r = formatEvent(event, "ntfy");
    expect(r.body).toContain("Fix: claude auth login");
    expect(r.headers).toMatchObject({ title: "Claude login on gw1 needs a new sign-in", priority: "high" });
  });
  test("json: a structured event", () => {
    expect(JSON.parse(formatEvent(event, "json").body)).toMatchObject({ source: "oauth-sync", event: "reauth-needed", severity: "error", host: "gw1", at: "2026-05-01T12:00:00.000Z", details: { flagFile: "/opt/oc/REAUTH_NEEDED" } });
  });
  test("a token that slipped into a message is redacted in every format", () => {
    const leaky = { ...testEvent("h", T0), text: "oops sk-ant-oat01-abcdefghijklmnopqrstuvwxyz" };
    for (const format of ["mattermost", "slack", "discord", "ntfy", "json"] as const) expect(formatEvent(leaky, format).body).not.toContain("abcdefghijklmnop");
  });
  test("labels never show the URL's path or query", () => {
    expect(webhookLabel({ url: "https://hooks.slack.com/services/T0/B0/SECRET?x=1", format: "slack" }, 0)).toBe("webhook 1 (slack, hooks.slack.com)");
  });
});

describe("failure streaks", () => {
  test("a message at the threshold, then reminders every few hours, not every tick; a success resets", () => {
    let s = emptyStreak();
    const sends: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const r = onFailure(s, "e", T0 + i * 60_000, 3, 4 * HOUR);
      s = r.streak;
      sends.push(r.send);
    }
    expect(sends).toEqual([false, false, true, false, false]);
    expect(onFailure(s, "e", T0 + 5 * HOUR, 3, 4 * HOUR).send).toBe(true);
    const ok = onSuccess(s);
    expect(ok.wasNotified).toBe(true);
    expect(ok.streak.count).toBe(0);
  });
});

describe("notifyAll", () => {
  const settings = (retries: number) => ({ webhooks: [{ url: "https://h.example/hook/SECRET", format: "json" as const }], timeoutSeconds: 1, retries, reminderHours: 4, failureThreshold: 3 });
  test("retries 5xx and network errors, not 4xx", async () => {
    const statuses = [503, 500, 200];
    let calls = 0;
    const fetch = async () => (calls++, new Response("", { status: statuses.shift()! }));
    const [r] = await notifyAll(testEvent("h", T0), settings(2), { fetch, sleep: async () => {} });
    expect(r).toMatchObject({ ok: true, attempts: 3 });
    calls = 0;
    const [bad] = await notifyAll(testEvent("h", T0), settings(2), { fetch: async () => (calls++, new Response("", { status: 404 })), sleep: async () => {} });
    expect(bad).toMatchObject({ ok: false, attempts: 1, error: "HTTP 404" });
    const [down] = await notifyAll(testEvent("h", T0), settings(1), {
      fetch: async () => {
        throw Object.assign(new Error("connect ECONNREFUSED https://h.example/hook/SECRET"), { code: "ECONNREFUSED" });
      },
      sleep: async () => {},
    });
    expect(down).toEqual({ label: "webhook 1 (json, h.example)", ok: false, attempts: 2, error: "ECONNREFUSED" });
  });
});
