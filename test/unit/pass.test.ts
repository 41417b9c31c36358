import { afterEach, describe, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import { syncExitCode } from "../../src/commands/_edge.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { createSandbox, fakeToken, removeSandbox, rotate, type Sandbox } from "../../src/demo/sandbox.ts";
import type { AlertKey, AlertOutcome } from "../../src/notify/alerts.ts";
import { runPass, type PassEffects } from "../../src/pass/pipeline.ts";
import { POLICY, type PassPolicy } from "../../src/pass/policy.ts";
import { runProcess } from "../../src/process/run.ts";
import type { PushOutcome } from "../../src/push/scheduler.ts";
import { readSource } from "../../src/sync/engine.ts";

/** The one pipeline after a pass, per policy: real files and targets, the effects recorded. */

const HOUR = 3_600_000;
let sandbox: Sandbox | undefined;
afterEach(async () => {
  if (sandbox) await removeSandbox(sandbox);
  sandbox = undefined;
});

async function setup(extra: Record<string, unknown> = {}) {
  sandbox = await createSandbox("oauth-sync-pass-");
  const s = sandbox;
  const ssh = { kind: "ssh", host: "gw2.example.com", user: "root", identityFile: "/etc/oauth-sync/ssh/id_ed25519", knownHostsFile: "/etc/oauth-sync/ssh/known_hosts" };
  const parsed = parseConfig(JSON.stringify({ ...s.config, targets: [...(s.config.targets as object[]), ssh], ...extra }), s.configPath);
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const config: Config = parsed.config;
  const log: string[] = [];
  const alerts: Array<[AlertKey, AlertOutcome]> = [];
  let owed = false;
  let reloadFails = false;
  let pushBlowsUp = false;
  const effects: PassEffects = {
    sync: { now: Date.now, run: runProcess },
    reloads: {
      mark: async () => 0,
      now: async () => {
        log.push("reload now: start");
        await Bun.sleep(50);
        log.push("reload now: end");
        return reloadFails ? { ok: false, error: "compose exited 1" } : { ok: true, detail: "recreated" };
      },
      owed: async () => (owed ? { since: 0 } : undefined),
      request: () => void log.push("reload requested"),
      retryIfOwed: () => void log.push("retry if owed"),
    },
    pushes: {
      offer: (hosts) => void log.push(`offered to ${hosts.length}`),
      everywhere: async (hosts) => {
        log.push("push: start");
        if (pushBlowsUp) throw new Error("state dir gone");
        await Bun.sleep(20);
        log.push("push: end");
        return hosts.map((h): PushOutcome => ({ id: `ssh:${h.user}@${h.host}:${h.port}`, result: { kind: "retry", error: "refused the connection" }, record: {}, ms: 1 }));
      },
    },
    alerts: { record: async (key, outcome) => void alerts.push([key, outcome]) },
    log: () => void log.push("logged"),
  };
  const pass = async (policy: PassPolicy) => runPass(config, await readSource(config.credentials, effects.sync), policy, effects);
  return { s, config, log, alerts, pass, owe: () => (owed = true), failReload: () => (reloadFails = true), blowUpPush: () => (pushBlowsUp = true) };
}

describe("runPass", () => {
  test("sync: reload now when a target asked for it, pushes to every host awaited meanwhile; the exit code from the outcome", async () => {
    const t = await setup({ gateway: { kind: "command", command: ["/bin/true"] } });
    await rotate(t.s, fakeToken(), Date.now() + 8 * HOUR);
    const outcome = await t.pass(POLICY.sync);
    expect(outcome.report.changed).toBe(true);
    // The pushes started before the reload and ended while it ran.
    expect(t.log).toEqual(["logged", "push: start", "reload now: start", "push: end", "reload now: end"]);
    expect(outcome.reload).toEqual({ ok: true, detail: "recreated" });
    expect(outcome.pushes?.map((p) => p.result.kind)).toEqual(["retry"]);
    expect(syncExitCode(outcome)).toBe(1); // a host did not take it
    await Bun.sleep(10);
    expect(t.alerts).toEqual([["state", { ok: true }], ["token-format", { ok: true }], ["sync", { ok: true }]]);
  });

  test("nothing changed: no reload, unless one is owed from earlier; a failed reload is exit 4", async () => {
    const t = await setup();
    await rotate(t.s, fakeToken(), Date.now() + 8 * HOUR);
    await t.pass(POLICY.receive);
    t.log.length = 0;
    await t.pass(POLICY.receive);
    expect(t.log).toEqual(["logged"]);
    t.owe();
    t.failReload();
    const outcome = await t.pass(POLICY.receive);
    expect(t.log.slice(1)).toEqual(["logged", "reload now: start", "reload now: end"]);
    expect(syncExitCode(outcome)).toBe(4);
  });

  test("check after a refresh: the same as sync (the ssh hosts get the token)", async () => {
    expect(POLICY.check).toEqual(POLICY.sync);
    const t = await setup();
    await rotate(t.s, fakeToken(), Date.now() + 8 * HOUR);
    expect((await t.pass(POLICY.check)).pushes).toHaveLength(1);
  });

  test("watch: the reload asked of the scheduler, the token offered to the workers, nothing awaited", async () => {
    const t = await setup();
    await rotate(t.s, fakeToken(), Date.now() + 8 * HOUR);
    const outcome = await t.pass(POLICY.watch);
    expect(t.log).toEqual(["logged", "offered to 1", "reload requested"]);
    expect(outcome.reload).toBeUndefined();
    expect(outcome.pushes).toBeUndefined();
    t.log.length = 0;
    await t.pass(POLICY.watch);
    expect(t.log).toEqual(["logged", "offered to 1", "retry if owed"]);
  });

  test("receive: never pushes on", async () => {
    const t = await setup();
    await rotate(t.s, fakeToken(), Date.now() + 8 * HOUR);
    await t.pass(POLICY.receive);
    expect(t.log.some((l) => l.startsWith("push") || l.startsWith("offered"))).toBe(false);
  });

  test("refused credentials: no push, no reload, exit 3; a half-written file is no failing sync for the alerts", async () => {
    const t = await setup();
    await writeFile(t.s.credentials, '{"claudeAiOauth": {"accessToken": "sk-ant-oat01-');
    const outcome = await t.pass(POLICY.sync);
    expect(t.log).toEqual(["logged"]);
    expect(syncExitCode(outcome)).toBe(3);
    await Bun.sleep(10);
    expect(t.alerts.map(([key]) => key)).toEqual(["state"]);
  });

  test("a push that blows up is every host's failure, contained; the reload still runs", async () => {
    const t = await setup({ gateway: { kind: "command", command: ["/bin/true"] } });
    t.blowUpPush();
    await rotate(t.s, fakeToken(), Date.now() + 8 * HOUR);
    const outcome = await t.pass(POLICY.sync);
    expect(outcome.pushes?.[0]?.result).toEqual({ kind: "retry", error: "push: state dir gone" });
    expect(outcome.reload?.ok).toBe(true);
    expect(syncExitCode(outcome)).toBe(1);
  });
});
