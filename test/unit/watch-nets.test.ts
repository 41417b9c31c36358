import { afterEach, describe, expect, test } from "bun:test";
import { fakeClock } from "../support/fake-clock.ts";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { createSandbox, fakeToken, removeSandbox, rotate, type Sandbox } from "../../src/demo/sandbox.ts";
import { runProcess } from "../../src/process/run.ts";
import { syncFrom } from "../../src/sync/engine.ts";
import type { PassReason } from "../../src/watch/expiry.ts";
import type { AsyncSubscription, Event, Watcher } from "../../src/watch/native.ts";
import { BLIND_LOOK_MS, createWatchService } from "../../src/watch/service.ts";

/**
 * Every safety net of the watch service fires through its one runner, with its reason: a fake clock drives the
 * runner, a fake watcher stands for @parcel/watcher (its callbacks and a subscription that fails), the files and the
 * targets are real.
 */

const HOUR = 3_600_000;

/** A watcher whose callbacks the test calls, and whose subscriptions fail while `failing` is set. */
function fakeWatcher() {
  const callbacks = new Map<string, (error: Error | null, events: Event[]) => unknown>();
  const w = {
    failing: 0,
    subscribes: 0,
    callbacks,
    watcher: {
      async subscribe(dir: string, fn: (error: Error | null, events: Event[]) => unknown): Promise<AsyncSubscription> {
        w.subscribes++;
        if (w.failing > 0) {
          w.failing--;
          throw new Error(`inotify_add_watch on '${dir}' failed: No such file or directory`);
        }
        callbacks.set(dir, fn);
        return { unsubscribe: async () => void callbacks.delete(dir) } as AsyncSubscription;
      },
    } as Watcher,
  };
  return w;
}

let sandbox: Sandbox | undefined;
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  if (sandbox) await removeSandbox(sandbox);
  stop = sandbox = undefined;
});

async function start(watch: Record<string, unknown>, options: { failing?: number; badTarget?: boolean; state?: object } = {}) {
  sandbox = await createSandbox("oauth-sync-nets-");
  const s = sandbox;
  const parsed = parseConfig(JSON.stringify({ ...s.config, watch: { retrySeconds: 30, reconcileSeconds: 1800, expiryChecksSeconds: [180, 60], ...watch } }), s.configPath);
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const config: Config = parsed.config;
  const clock = fakeClock(Date.now());
  const fake = fakeWatcher();
  fake.failing = options.failing ?? 0;
  const passes: Array<Set<PassReason>> = [];
  const expiresAt = Date.now() + HOUR;
  await rotate(s, fakeToken(), expiresAt);
  if (options.badTarget) await writeFile(s.files.authProfiles, "not json");
  if (options.state) {
    await mkdir(join(s.root, "state"), { recursive: true, mode: 0o700 });
    await writeFile(join(s.root, "state/state.json"), JSON.stringify({ version: 1, ...options.state }));
  }
  const service = createWatchService(config, {
    now: clock.now,
    run: runProcess,
    clock,
    watcher: fake.watcher,
    mounts: null,
    pass: async (source, reasons) => {
      passes.push(new Set(reasons));
      return syncFrom(config, source, { now: clock.now, run: runProcess });
    },
  });
  await service.start();
  stop = () => service.stop();
  /** Advance the clock and wait (real time) until the turn it started has run its pass. */
  async function advance(ms: number, expectPass = true) {
    const before = passes.length;
    clock.advance(ms);
    for (let i = 0; i < 500 && expectPass && passes.length === before; i++) await Bun.sleep(5);
    await Bun.sleep(20);
    return passes.slice(before);
  }
  return { s, clock, fake, passes, service, advance, expiresAt, config };
}

const reasonsOf = (passes: Array<Set<PassReason>>) => passes.map((p) => [...p].sort().join("+"));

describe("the safety nets on the runner (fake clock, fake watcher, real files)", () => {
  test("start, then each net at its time with its reason: trigger, reconcile, expiry checkpoints", async () => {
    const { passes, service, advance, expiresAt, clock } = await start({});
    expect(reasonsOf(passes)).toEqual(["start"]);
    expect([...service.pending.keys()].sort()).toEqual(["collect", "expiry", "reconcile"]);
    expect(service.pending.get("expiry")).toBe(expiresAt - 180_000);

    service.afterTrigger();
    expect(reasonsOf(await advance(999, false))).toEqual([]);
    expect(reasonsOf(await advance(1))).toEqual(["trigger"]);

    expect(reasonsOf(await advance(1800 * 1000 - 1000))).toEqual(["reconcile"]);
    // The reconcile asks for the next one itself.
    expect(service.pending.get("reconcile")).toBe(clock.now() + 1800 * 1000);

    const toFirst = expiresAt - 180_000 - clock.now();
    expect(reasonsOf(await advance(toFirst))).toEqual(["expiry"]);
    expect(service.pending.get("expiry")).toBe(expiresAt - 60_000);
    expect(reasonsOf(await advance(120_000))).toEqual(["expiry"]);
    expect(service.pending.has("expiry")).toBe(false);
  });

  test("long waits wake the runner every 15 minutes to look at the clock, and fire only when due", async () => {
    const { clock, service } = await start({ reconcileSeconds: 86_400 });
    expect(service.pending.get("reconcile")).toBe(clock.now() + 86_400_000);
    // One timer armed, never further away than 15 minutes.
    expect(clock.timers).toBe(1);
  });

  test("a failing target is retried after retrySeconds; a half-written file after 100 ms", async () => {
    const { s, advance, service } = await start({}, { badTarget: true });
    expect(reasonsOf(await advance(29_999, false))).toEqual([]);
    expect(reasonsOf(await advance(1))).toEqual(["retry"]);
    await writeFile(s.files.authProfiles, "{}");
    expect(reasonsOf(await advance(30_000))).toEqual(["retry"]);
    expect(service.pending.has("retry")).toBe(false);
    await writeFile(s.credentials, '{"claudeAiOauth": {"accessToken": "sk-ant-oat01-');
    service.afterTrigger();
    expect(reasonsOf(await advance(1000))).toEqual(["trigger"]);
    expect(reasonsOf(await advance(100))).toEqual(["retry"]);
  });

  test("a watcher callback without the rename's event: the look finds the file twice, 600 ms apart, and passes", async () => {
    const { s, fake, advance } = await start({});
    await rotate(s, fakeToken(), Date.now() + 2 * HOUR);
    fake.callbacks.get(join(s.root, "claude"))!(null, []);
    expect(reasonsOf(await advance(600, false))).toEqual([]); // seen once: its event may be on its way
    expect(reasonsOf(await advance(600))).toEqual(["look"]);
  });

  test("a file event settles and passes (not a net); a rename event for another file only looks", async () => {
    const { s, fake, advance } = await start({});
    await rotate(s, fakeToken(), Date.now() + 2 * HOUR);
    fake.callbacks.get(join(s.root, "claude"))!(null, [{ type: "create", path: s.credentials }]);
    expect(reasonsOf(await advance(0))).toEqual(["event"]);
    expect(reasonsOf(await advance(1200, false))).toEqual([]); // the look finds the file read
  });

  test("a subscription that fails is retried with backoff; meanwhile the file is looked at every second; status says so", async () => {
    const { s, fake, advance, service, clock } = await start({}, { failing: 3 });
    expect(service.blind?.reason).toContain("inotify_add_watch");
    const state = async () => JSON.parse(await readFile(join(s.root, "state/state.json"), "utf8"));
    expect((await state()).watch.blind.reason).toContain("inotify_add_watch");
    expect(service.pending.get("poll")).toBe(clock.now() + BLIND_LOOK_MS);
    // A rotation while blind lands through the look every second.
    await rotate(s, fakeToken(), Date.now() + 2 * HOUR);
    const polled = await advance(BLIND_LOOK_MS);
    expect(reasonsOf(polled)).toEqual(["poll"]);
    // 250 ms, 500 ms, 1 s after the first failure: the third retry holds (each try asks for the parent first, so a
    // failed try is one subscribe, the one that holds two). The look every second does not try again on its own.
    for (let t = 0; t < 2000; t += 250) await advance(250, false);
    expect(fake.subscribes).toBe(5);
    expect(service.blind).toBeUndefined();
    expect(service.pending.has("poll")).toBe(false);
    // Held for 5 s: the episode is over for status too.
    await advance(5000, false);
    expect((await state()).watch.blind).toBeUndefined();
    expect(service.told).toBeUndefined();
  });

  test("a watch that keeps failing is tried again on its backoff (250 ms doubling to 5 s), not at every look", async () => {
    const { fake, advance, service } = await start({}, { failing: 1_000 });
    for (let t = 0; t < 20_000; t += 250) await advance(250, false);
    // The start's try, then 0.25, 0.75, 1.75, 3.75, 7.75, 12.75 and 17.75 s after it.
    expect(fake.subscribes).toBe(8);
    expect(service.blind?.reason).toContain("inotify_add_watch");
  });

  test("a record of a watch that did not hold, left by a service stopped within the episode, is cleared once this one's watch holds", async () => {
    const stale = { watch: { missed: 2, blind: { since: new Date(Date.now() - 60_000).toISOString(), reason: "inotify_add_watch failed" } } };
    const { s, service } = await start({}, { state: stale });
    expect(service.blind).toBeUndefined();
    await Bun.sleep(50);
    const watch = JSON.parse(await readFile(join(s.root, "state/state.json"), "utf8")).watch;
    expect(watch.blind).toBeUndefined();
    expect(watch.missed).toBe(2);
  });

  test("a full collection follows a pass that wrote, not a net that found everything in place", async () => {
    const { s, advance, service } = await start({});
    expect(service.pending.has("collect")).toBe(true); // the start wrote the targets
    await advance(10_000, false);
    expect(service.pending.has("collect")).toBe(false);
    expect(reasonsOf(await advance(1800 * 1000 - 10_000))).toEqual(["reconcile"]);
    expect(service.pending.has("collect")).toBe(false);
    await rotate(s, fakeToken(), Date.now() + 2 * HOUR);
    service.afterTrigger();
    expect(reasonsOf(await advance(1000))).toEqual(["trigger"]);
    expect(service.pending.has("collect")).toBe(true);
  });

  test("a watcher error puts the watch in doubt: it is set up again at once", async () => {
    const { s, fake, advance } = await start({});
    const before = fake.subscribes;
    fake.callbacks.get(join(s.root, "claude"))!(new Error("Bad file descriptor"), []);
    await advance(0, false);
    expect(fake.subscribes).toBe(before + 2); // the parent and the directory
  });
});
