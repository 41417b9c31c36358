import { afterEach, describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken, type Sandbox } from "../../src/demo/sandbox.ts";
import { realReloadDeps } from "../../src/gateway/deps.ts";
import { fingerprint } from "../../src/log/redact.ts";
import type { NotifyEvent } from "../../src/notify/event.ts";
import { realCheckDeps } from "../../src/refresh/deps.ts";
import { PASS_STAGES, type PassStage } from "../../src/sync/engine.ts";
import { createDaemon } from "../../src/watch/daemon.ts";
import { lock, unlock } from "../../bench/support/soak/locks.ts";
import { run } from "../support/binary.ts";
import { canBindMount } from "../support/mounts.ts";
import { waitUntil } from "../support/wait.ts";

/**
 * The whole service in this process (real files, the real watcher, a real gateway command), with a throw injected
 * at the start of one stage of every pass: it must log, count and carry on, and once the fault is gone the next
 * rotation must reach every target, the gateway and the state file, and a person must still hear of a dead login.
 */

const HOUR = 3_600_000;
let sandbox: Sandbox | undefined;
let daemon: ReturnType<typeof createDaemon> | undefined;

afterEach(async () => {
  await daemon?.stop();
  if (sandbox) await removeSandbox(sandbox);
  daemon = sandbox = undefined;
});

const until = (what: string, check: () => boolean | Promise<boolean>) => waitUntil(what, check, 8000);

async function startDaemon(fault: (stage: PassStage) => void) {
  sandbox = await createSandbox("oauth-sync-faults-");
  const s = sandbox;
  const reloads = join(s.root, "reloads");
  await writeFile(reloads, "");
  const config = {
    ...s.config,
    targets: (s.config.targets as object[]).map((target) => ({ ...target, reload: true })),
    gateway: { kind: "command", command: ["/bin/sh", "-c", `echo reload >> '${reloads}'`], settleSeconds: 0 },
    trigger: { mode: "none" },
    refresh: { flagFile: join(s.root, "REAUTH_NEEDED") },
    notify: { failureThreshold: 1 },
    watch: { retrySeconds: 1 },
  };
  await writeFile(s.configPath, JSON.stringify(config));
  const loaded = await loadConfig(s.configPath);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  const events: NotifyEvent[] = [];
  await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
  daemon = createDaemon(loaded.config, {
    ...realReloadDeps,
    random: Math.random,
    check: realCheckDeps,
    notify: async (event) => void events.push(event),
    fault,
    mounts: null,
  });
  await daemon.start();
  const reloadCount = async () => (await readFile(reloads, "utf8")).split("\n").filter(Boolean).length;
  return { s, events, reloadCount, targets: Object.values(s.files) };
}

const stateFingerprint = async (s: Sandbox) => JSON.parse(await readFile(join(s.root, "state/state.json"), "utf8")).source?.fingerprint;

describe("a throw in any stage of a pass", () => {
  for (const stage of PASS_STAGES) {
    test(`${stage}: logged, counted, the service carries on and recovers`, async () => {
      let faulty = false;
      const { s, events, reloadCount, targets } = await startDaemon((at) => {
        if (faulty && at === stage) throw new Error(`injected fault in ${stage}`);
      });
      const d = daemon!;
      faulty = true;
      for (let i = 0; i < 3; i++) {
        const passes = d.passes;
        await rotate(s, fakeToken(), Date.now() + (9 + i) * HOUR);
        await until(`a pass after rotation ${i}`, () => d.passes > passes);
      }
      // "push" only runs with a token to push and ssh targets to push to: its guard runs every pass all the same.
      await until(`the ${stage} failure counted`, () => d.failures[stage] >= 1);

      faulty = false;
      const before = await reloadCount();
      const token = fakeToken();
      await rotate(s, token, Date.now() + 20 * HOUR);
      await waitForToken(targets, token, 10_000);
      await until("a gateway reload for the new token", async () => (await reloadCount()) > before);
      await until("the state file records the new token", async () => (await stateFingerprint(s)) === fingerprint(token));

      // Notifications work again too: a blanked login (Claude Code's invalid_grant) reaches a person.
      await writeFile(s.credentials, JSON.stringify({ claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0 } }));
      await until("a reauth-needed notification", () => events.some((e) => e.kind === "reauth-needed"));
      for (const path of targets) expect(await readFile(path, "utf8")).toContain(token);
    }, 60_000);
  }
});


test.skipIf(!canBindMount())("a state directory that cannot be written: syncing and reloads go on, status and a notification say so", async () => {
  const { s, events, reloadCount, targets } = await startDaemon(() => {});
  const d = daemon!;
  const stateDir = join(s.root, "state");
  // A read-only remount is refused (EBUSY) while a file on it is open for writing: the start's own state writes.
  await until("the state directory made read-only", () => lock(stateDir, "ro-bind").then(() => true, () => false));
  try {
    const before = await reloadCount();
    const token = fakeToken();
    await rotate(s, token, Date.now() + 10 * HOUR);
    await waitForToken(targets, token, 10_000);
    await until("a gateway reload although the state cannot be written", async () => (await reloadCount()) > before);
    await until("a state-failing notification", () => events.some((e) => e.kind === "state-failing"));
    expect(d.failures.state).toBeGreaterThanOrEqual(1);
    const event = events.find((e) => e.kind === "state-failing")!;
    expect(event.text).toContain("Syncing goes on");

    const status = await run(["status", "--json", "--config", s.configPath]);
    const report = JSON.parse(status.stdout);
    expect(report.state).toMatchObject({ dir: stateDir, writable: false });
    expect(report.problems[0]).toContain("the state file cannot be written");
    expect(report.healthy).toBe(false);
    expect((await run(["status", "--config", s.configPath])).stdout).toContain("CANNOT BE WRITTEN");
  } finally {
    await unlock(stateDir, "ro-bind");
  }
  // Writable again: the next pass records, and status no longer complains about the state.
  const token = fakeToken();
  await rotate(s, token, Date.now() + 11 * HOUR);
  await until("the state file records the token again", async () => (await stateFingerprint(s)) === fingerprint(token));
  const report = JSON.parse((await run(["status", "--json", "--config", s.configPath])).stdout);
  expect(report.state.writable).toBe(true);
  expect(report.problems.join("\n")).not.toContain("state file cannot be written");
}, 60_000);
