import { afterEach, describe, expect, test } from "bun:test";
import { readFile, rename, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken, type Sandbox } from "../../src/demo/sandbox.ts";
import { runProcess } from "../../src/process/run.ts";
import { createWatchService } from "../../src/watch/service.ts";
import { watcher, type Watcher } from "../../src/watch/native.ts";
import { run } from "../support/binary.ts";
import { waitUntil } from "../support/wait.ts";

/**
 * The watcher's events blocked entirely (no watcher started: the `watcher: null` seam), real files, the real service:
 * the safety nets alone must bring the new token to every target before the old one expires.
 */
let sandbox: Sandbox | undefined;
let service: ReturnType<typeof createWatchService> | undefined;

afterEach(async () => {
  await service?.stop();
  if (sandbox) await removeSandbox(sandbox);
  service = sandbox = undefined;
});

/**
 * The real @parcel/watcher, with what its race does (bench/watcher-drops.ts): the callback arrives, but the rename's
 * event for the credentials file is not in it.
 */
const droppingCredentialsEvents: Watcher = {
  subscribe: (dir, fn, options) => watcher.subscribe(dir, (error, events) => fn(error, events.filter((e) => basename(e.path) !== ".credentials.json")), options),
};

async function startBlind(watch: Record<string, unknown>, events: Watcher | null = null) {
  sandbox = await createSandbox("oauth-sync-net-");
  await writeFile(sandbox.configPath, JSON.stringify({ ...sandbox.config, watch: { reconcileSeconds: 86_400, ...watch } }));
  const loaded = await loadConfig(sandbox.configPath);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  service = createWatchService(loaded.config, { now: Date.now, run: runProcess, watcher: events, mounts: null });
  return sandbox;
}

const targets = (s: Sandbox) => Object.values(s.files);
const held = async (s: Sandbox) => Promise.all(targets(s).map((path) => readFile(path, "utf8")));
/** The miss is recorded just after the targets are written: wait for it. */
async function watchState(s: Sandbox) {
  const watch = async () => JSON.parse(await readFile(join(s.root, "state/state.json"), "utf8")).watch;
  return waitUntil("the watch record", watch, { timeoutMs: 2500, intervalMs: 10, onTimeout: "continue" });
}

describe("the safety nets, with the watcher's events blocked or dropped", () => {
  test("a rotation nobody announced reaches every target before the old token expires (expiry checkpoints)", async () => {
    const s = await startBlind({ expiryChecksSeconds: [4, 2] });
    const oldExpires = Date.now() + 7000;
    const old = fakeToken();
    await rotate(s, old, oldExpires);
    await service!.start();
    for (const text of await held(s)) expect(text).toContain(old);

    const fresh = fakeToken();
    await rotate(s, fresh, Date.now() + 3_600_000); // what the CLI does in its refresh window: no event reaches us
    await Bun.sleep(1000);
    // Nothing has told the service yet: the targets still hold the old token (so the test below can fail).
    for (const text of await held(s)) expect(text).toContain(old);

    await waitForToken(targets(s), fresh, oldExpires - Date.now());
    expect(Date.now()).toBeLessThan(oldExpires);
    expect(await watchState(s)).toMatchObject({ missed: 1, lastMissedBy: "expiry" });
    expect(service!.missed).toBe(1);
    // The compiled binary's `status --json` shows it.
    const status = await run(["status", "--json", "--config", s.configPath]);
    expect(JSON.parse(status.stdout).watch).toMatchObject({ missedRotations: 1, lastMissedBy: "expiry" });
  }, 20_000);

  test("a refresh trigger of our own is followed by a pass that lands its rotation", async () => {
    const s = await startBlind({});
    const old = fakeToken();
    await rotate(s, old, Date.now() + 3_600_000);
    await service!.start();
    const fresh = fakeToken();
    await rotate(s, fresh, Date.now() + 2 * 3_600_000);
    await Bun.sleep(300);
    for (const text of await held(s)) expect(text).toContain(old);
    service!.afterTrigger();
    await waitForToken(targets(s), fresh, 5000);
    expect(await watchState(s)).toMatchObject({ missed: 1, lastMissedBy: "trigger" });
  }, 20_000);

  test("with no rotation to find, the nets write nothing and count nothing", async () => {
    const s = await startBlind({ expiryChecksSeconds: [2, 1] });
    const token = fakeToken();
    await rotate(s, token, Date.now() + 3000);
    await service!.start();
    const before = await readFile(join(s.root, "state/state.json"), "utf8");
    service!.afterTrigger();
    await Bun.sleep(2600); // both checkpoints and the after-trigger pass have run
    expect(service!.syncCount).toBeGreaterThanOrEqual(3);
    expect(await readFile(join(s.root, "state/state.json"), "utf8")).toBe(before);
    expect(service!.missed).toBe(0);
  }, 20_000);

  test("the watcher's callback without the rename's event (its batch race): the look lands the token and counts it", async () => {
    const s = await startBlind({}, droppingCredentialsEvents);
    const old = fakeToken();
    await rotate(s, old, Date.now() + 3_600_000);
    await service!.start();
    const fresh = fakeToken();
    await rotate(s, fresh, Date.now() + 2 * 3_600_000);
    await waitForToken(targets(s), fresh, 5000);
    expect(await watchState(s)).toMatchObject({ missed: 1, lastMissedBy: "look" });
  }, 20_000);

  test("a rotation whose event arrives is not counted, nor re-read by the look", async () => {
    const s = await startBlind({}, watcher);
    const old = fakeToken();
    await rotate(s, old, Date.now() + 3_600_000);
    await service!.start();
    for (let i = 1; i <= 5; i++) {
      const fresh = fakeToken();
      await rotate(s, fresh, Date.now() + (1 + i) * 3_600_000);
      await waitForToken(targets(s), fresh, 5000);
      await Bun.sleep(100 + Math.random() * 700);
    }
    const passes = service!.syncCount;
    await Bun.sleep(1500); // both looks have run
    expect(service!.syncCount).toBe(passes);
    expect(service!.missed).toBe(0);
  }, 30_000);

  test("the credentials directory renamed away and back in a loop for 10 s (a real rename loop): the watch holds again within seconds, and rotations land by their events", async () => {
    const s = await startBlind({}, watcher);
    const dir = join(s.root, "claude");
    const away = join(s.root, "claude.away");
    await rotate(s, fakeToken(), Date.now() + 3_600_000);
    await service!.start();
    // As the login's owner did: as fast as rename(2) goes, in another process, for 10 s.
    const loop = Bun.spawn(
      [process.execPath, "-e", `const fs=require("node:fs");const end=Date.now()+10000;let n=0;while(Date.now()<end){fs.renameSync(${JSON.stringify(dir)},${JSON.stringify(away)});fs.renameSync(${JSON.stringify(away)},${JSON.stringify(dir)});n++}console.log(n)`],
      { stdout: "pipe" },
    );
    const cycles = Number((await new Response(loop.stdout).text()).trim());
    expect(await loop.exited).toBe(0);
    expect(cycles).toBeGreaterThan(1000);
    await rename(away, dir).catch(() => {}); // (the loop always ends with the directory back in place)

    // A rotation right after the churn lands within seconds, whether or not the watch holds yet.
    const first = fakeToken();
    await rotate(s, first, Date.now() + 2 * 3_600_000);
    await waitForToken(targets(s), first, 3000);
    // The watch holds again within seconds (the retry backoff is capped at 5 s)…
    const ended = Date.now();
    while (service!.blind && Date.now() - ended < 8000) await Bun.sleep(50);
    expect(service!.blind).toBeUndefined();
    // …and the next rotations are announced by their events again: none is left for a safety net to find.
    const missed = service!.missed;
    for (let i = 0; i < 3; i++) {
      const token = fakeToken();
      await rotate(s, token, Date.now() + (3 + i) * 3_600_000);
      await waitForToken(targets(s), token, 2000);
      await Bun.sleep(200);
    }
    await Bun.sleep(1500); // the looks after the last events have run
    expect(service!.missed).toBe(missed);
  }, 60_000);
});
