import { describe, expect, test } from "bun:test";
import { failingEvent, reauthEvent, testEvent } from "../../src/notify/event.ts";
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
  test("text from the other side (a gateway's log tail) cannot ping, link, forge a line or steer a terminal in any format", () => {
    const tail = "up failed\n[error] root login expired \x1b]52;c;Y3VybA==\x07 <!channel> <https://evil.example|https://claude.ai/login> @everyone [https://claude.ai/login](https://evil.example) ```";
    const hostile = failingEvent("reload-failing", "gw1", T0, { count: 3, error: tail });
    // eslint-disable-next-line no-control-regex
    const raw = /[\x00-\x1f\x7f-\x9f]/;
    const slack = JSON.parse(formatEvent(hostile, "slack").body).text as string;
    expect(slack.split("\n")).toHaveLength(2); // the title, then the text: the quoted newline made no line of its own
    expect(slack).not.toMatch(/[<>]/);
    for (const line of slack.split("\n")) expect(line).not.toMatch(raw);
    const mattermost = JSON.parse(formatEvent(hostile, "mattermost").body).text as string;
    expect(mattermost.split("\n")).toHaveLength(2);
    expect(mattermost).not.toMatch(/[<>]|@everyone|(?<!\\)\]\(/);
    for (const line of mattermost.split("\n")) expect(line).not.toMatch(raw);
    const discord = JSON.parse(formatEvent(hostile, "discord").body);
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    expect(discord.content).toMatch(/^\*\*[^\n]+\*\*\n```\n[^\n`]+\n```$/);
    const ntfy = formatEvent(hostile, "ntfy");
    expect(ntfy.body).not.toMatch(raw);
    expect(ntfy.body).not.toContain("\n");
    const json = formatEvent(hostile, "json").body;
    expect(json).not.toMatch(raw);
    expect(JSON.parse(json).details.error).toBe(tail); // the JSON form carries the text itself, escaped by JSON
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
    expect(calls).toBe(3);
    calls = 0;
    const [bad] = await notifyAll(testEvent("h", T0), settings(2), { fetch: async () => (calls++, new Response("", { status: 404 })), sleep: async () => {} });
    expect(bad).toMatchObject({ ok: false, attempts: 1, error: "HTTP 404" });
    expect(calls).toBe(1);
    const [down] = await notifyAll(testEvent("h", T0), settings(1), {
      fetch: async () => {
        throw Object.assign(new Error("connect ECONNREFUSED https://h.example/hook/SECRET"), { code: "ECONNREFUSED" });
      },
      sleep: async () => {},
    });
    expect(down).toEqual({ label: "webhook 1 (json, h.example)", ok: false, attempts: 2, error: "ECONNREFUSED" });
  });
});
