/**
 * One change of token, one gateway reload, across the two processes that may run at once on a host: the resident
 * `watch` (which schedules its reload) and the `check` the backstop timer runs (which reloads before it exits), or a
 * `sync` by hand. Real processes (the compiled binary), a real refresh by the real Claude CLI against the fake OAuth
 * server (test/bed/claude.ts), and a gateway whose reloads are counted: a `command` gateway that appends a line per
 * run, naming the oauth-sync process that ran it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmod, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fakeToken, rotate, waitForToken } from "../../src/demo/sandbox.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { ensureClaudeCli, readClaudeCredentials, startFakeOAuth, type FakeOAuth } from "../bed/claude.ts";
import { run, start, type Running } from "../support/binary.ts";
import { hostTrigger, refreshCase, type RefreshCase } from "../support/refresh-bed.ts";
import { waitUntil } from "../support/wait.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
let binary: string;
let fake: FakeOAuth;
let c: RefreshCase | undefined;
let watcher: Running | undefined;

beforeAll(async () => {
  binary = await ensureClaudeCli();
  fake = await startFakeOAuth();
});
afterAll(async () => {
  await fake?.close();
});
afterEach(async () => {
  await watcher?.stop();
  await c?.remove();
  watcher = c = undefined;
});

/**
 * A gateway reload that takes a moment (`seconds`, as a real one does) and logs one line per good run: `reload <pid of
 * the oauth-sync process that ran it>`; it fails (exit 7) while the file `down` exists beside it.
 */
async function countingGateway(root: string, seconds = 0.2) {
  const log = join(root, "reloads.log");
  const down = join(root, "down");
  const script = join(root, "reload.sh");
  await writeFile(script, `#!/bin/sh\nsleep ${seconds}\nif [ -e ${down} ]; then echo "gateway is down" >&2; exit 7; fi\necho "reload $PPID" >> ${log}\n`);
  await chmod(script, 0o755);
  const reloads = async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { gateway: { kind: "command", command: [script] }, reloads, down };
}

/**
 * Two configs over the same credentials, targets, gateway and state: the watch's, whose own refresh falls due only in
 * its last 10 s (its timer has not fired yet, as when the backstop's tick lands first or the CLI skipped the watch's
 * trigger), and the check's, as installed (240 s window).
 */
async function twoConfigs(c: RefreshCase, gateway: Record<string, unknown>, claude = binary) {
  const common = { ...c.sandbox.config, gateway, trigger: hostTrigger(claude, c.home) };
  const watchConfig = join(c.sandbox.root, "watch.json");
  await writeFile(watchConfig, JSON.stringify({ ...common, refresh: { windowSeconds: 10 } }));
  await writeFile(c.sandbox.configPath, JSON.stringify(common));
  return { watchConfig, checkConfig: c.sandbox.configPath };
}

/** The real CLI, and `seconds` more before the trigger ends (none: the CLI itself). */
async function slowExit(root: string, seconds: number): Promise<string> {
  if (!seconds) return binary;
  const script = join(root, "claude-slow-exit");
  await writeFile(script, `#!/bin/sh\n"${binary}" "$@"\ncode=$?\nsleep ${seconds}\nexit $code\n`);
  await chmod(script, 0o755);
  return script;
}

/** The watch started on a login it writes to the empty targets: its first reload is waited for. */
async function startWatch(c: RefreshCase, config: string, reloads: () => Promise<string[]>): Promise<Running> {
  const running = start(["watch", "--config", config], c.env);
  await waitUntil("the watch's first reload", async () => (await reloads()).length === 1, { timeoutMs: 15_000, detail: running.output });
  await Bun.sleep(300);
  return running;
}

const state = async (root: string) => JSON.parse(await readFile(join(root, "state/state.json"), "utf8"));
const COVERED = "already reloaded by another process after this change";

describe("one token change, one gateway reload, with watch and check both running", () => {
  // The real CLI exits within ~20-50 ms of renaming its new file into place, and `check` reads it at once: it usually
  // writes the targets before the watch's event (batched ~50 ms) arrives. A trigger that ends later (`docker exec`
  // of a CLI in a container, a slower CLI) lets the watch write them first: a wrapper that waits 300 ms after the
  // real CLI exits stands for it.
  for (const [order, exitDelay] of [["the watch writes the targets first", 0.3], ["check writes the targets first, as a rule", 0]] as const) {
    test(`check refreshes through the real CLI while watch runs (${order}): one reload for the new token`, async () => {
      c = await refreshCase(fake, "oauth-sync-reload-once-");
      const { gateway, reloads } = await countingGateway(c.sandbox.root);
      const { watchConfig, checkConfig } = await twoConfigs(c, gateway, await slowExit(c.sandbox.root, exitDelay));
      await c.login(Date.now() + 3 * MIN);
      watcher = await startWatch(c, watchConfig, reloads);

      const check = await run(["check", "--config", checkConfig], c.env);
      expect(check.code).toBe(5);
      const fresh = (await readClaudeCredentials(c.configDir))!.accessToken;
      await waitForToken(c.targets(), fresh, 10_000);
      // The watch's reload is due 2 s after its pass (settleSeconds) and takes 0.2 s: wait it out, and some.
      await Bun.sleep(4000);
      const after = (await reloads()).slice(1);
      const byWatch = after.filter((line) => line === `reload ${watcher!.child.pid}`).length;
      console.log(`${order}: ${after.length} reload(s) for the new token (watch ${byWatch}, check ${after.length - byWatch})`);
      expect(after).toHaveLength(1);
      // Whoever wrote the targets and did not reload says why, in one line.
      const wrote = (output: string) => output.includes(`updated to token ${fingerprint(fresh)}`);
      if (wrote(watcher.output()) && byWatch === 0) expect(watcher.output()).toContain(COVERED);
      if (wrote(check.output) && byWatch === 1) expect(check.output).toContain(COVERED);
      if (exitDelay) expect(wrote(watcher.output())).toBe(true);
      expect((await state(c.sandbox.root)).gateway).toMatchObject({ pending: false, attempts: 0 });
    }, 120_000);
  }

  test("check comes while the watch's reload runs: it waits for it, finds the change covered, and reloads nothing", async () => {
    c = await refreshCase(fake, "oauth-sync-reload-once-");
    const { gateway, reloads } = await countingGateway(c.sandbox.root, 1.5);
    const { watchConfig, checkConfig } = await twoConfigs(c, { ...gateway, settleSeconds: 0 }, await slowExit(c.sandbox.root, 0.3));
    await c.login(Date.now() + 3 * MIN);
    watcher = await startWatch(c, watchConfig, reloads);
    const check = await run(["check", "--config", checkConfig], c.env);
    expect(check.code).toBe(5);
    await Bun.sleep(2500);
    const after = (await reloads()).slice(1);
    expect(after).toEqual([`reload ${watcher.child.pid}`]);
    expect(check.output).toContain(COVERED);
  }, 120_000);

  test("sync by hand beside the watch after each rotation: one reload each", async () => {
    c = await refreshCase(fake, "oauth-sync-reload-once-");
    const { gateway, reloads } = await countingGateway(c.sandbox.root);
    const { watchConfig, checkConfig } = await twoConfigs(c, gateway);
    await rotate(c.sandbox, fakeToken(), Date.now() + 8 * HOUR);
    watcher = await startWatch(c, watchConfig, reloads);
    for (let round = 1; round <= 3; round++) {
      const token = fakeToken();
      await rotate(c.sandbox, token, Date.now() + 9 * HOUR + round);
      // The operator's sync, a moment later: the watch has written the targets, or is writing them.
      await Bun.sleep(30 * round);
      expect((await run(["sync", "--config", checkConfig], c.env)).code).toBe(0);
      await waitForToken(c.targets(), token, 10_000);
      await Bun.sleep(4000);
      expect({ round, reloads: (await reloads()).length - 1 }).toEqual({ round, reloads: round });
    }
  }, 120_000);

  test("both write the same token at once, the watch's write landing after the sync's reload began: one reload", async () => {
    c = await refreshCase(fake, "oauth-sync-reload-once-");
    const { gateway, reloads } = await countingGateway(c.sandbox.root);
    // A consumer program (an exec target that asks for a reload) that takes its time: 1.5 s when the watch runs it,
    // 0.2 s for the sync. Both read the record before either recorded a delivery, so both deliver the new token; the
    // sync's reload starts while the watch's delivery still runs.
    const program = join(c.sandbox.root, "consumer");
    await writeFile(program, `#!/bin/sh\nsleep "$SLOW"\ncat > ${join(c.sandbox.root, "delivered")}\n`, { mode: 0o755 });
    const consumer = (slow: string) => ({ kind: "exec", command: [program], user: "root", reload: true, env: { SLOW: slow } });
    const targets = c.sandbox.config.targets as object[];
    const watchConfig = join(c.sandbox.root, "watch.json");
    await writeFile(watchConfig, JSON.stringify({ ...c.sandbox.config, gateway, targets: [...targets, consumer("1.5")] }));
    await writeFile(c.sandbox.configPath, JSON.stringify({ ...c.sandbox.config, gateway, targets: [...targets, consumer("0.2")] }));
    await rotate(c.sandbox, fakeToken(), Date.now() + 8 * HOUR);
    watcher = await startWatch(c, watchConfig, reloads);
    const token = fakeToken();
    await rotate(c.sandbox, token, Date.now() + 9 * HOUR);
    await Bun.sleep(150);
    const sync = await run(["sync", "--config", c.sandbox.configPath], c.env);
    expect(sync.code).toBe(0);
    const delivered = (output: string) => output.includes(`exec:${program}: `) && output.includes(`token ${fingerprint(token)}`);
    expect(delivered(sync.output)).toBe(true);
    await watcher.waitFor(new RegExp(`exec:${program}: [^\n]*${fingerprint(token)}`), 10_000);
    await Bun.sleep(3500);
    expect((await reloads()).slice(1)).toHaveLength(1);
    expect(watcher.output()).toContain(COVERED);
    expect((await state(c.sandbox.root)).gateway).toMatchObject({ pending: false });
  }, 120_000);

  test("a reload the watch still owes after failures is paid by a sync by hand; the watch's retry then runs none", async () => {
    c = await refreshCase(fake, "oauth-sync-reload-once-");
    const { gateway, reloads, down } = await countingGateway(c.sandbox.root, 0.05);
    const { watchConfig, checkConfig } = await twoConfigs(c, gateway);
    await rotate(c.sandbox, fakeToken(), Date.now() + 8 * HOUR);
    watcher = await startWatch(c, watchConfig, reloads);
    await writeFile(down, "");
    await rotate(c.sandbox, fakeToken(), Date.now() + 9 * HOUR);
    await watcher.waitFor("attempt 2", 15_000);
    expect((await state(c.sandbox.root)).gateway).toMatchObject({ pending: true });
    await rm(down);
    // Nothing to write (the watch did): the sync pays the debt the record holds.
    const sync = await run(["sync", "--config", checkConfig], c.env);
    expect(sync.code).toBe(0);
    expect(sync.output).toContain("gateway: ran");
    await watcher.waitFor(COVERED, 15_000);
    await Bun.sleep(500);
    expect((await reloads()).slice(1)).toHaveLength(1);
    expect((await state(c.sandbox.root)).gateway).toMatchObject({ pending: false, attempts: 0 });
  }, 120_000);

  test("a reload a verb left owed (it failed) is paid by the watch at its next pass, though the watch wrote nothing", async () => {
    c = await refreshCase(fake, "oauth-sync-reload-once-");
    const { gateway, reloads, down } = await countingGateway(c.sandbox.root, 0.05);
    const { watchConfig, checkConfig } = await twoConfigs(c, gateway);
    await rotate(c.sandbox, fakeToken(), Date.now() + 8 * HOUR);
    const credentials = await readFile(c.sandbox.credentials, "utf8");
    const root = c.sandbox.root;
    watcher = await startWatch(c, watchConfig, reloads);
    await writeFile(down, "");
    const failed = await run(["reload", "--config", checkConfig], c.env);
    expect(failed.code).not.toBe(0);
    expect((await state(c.sandbox.root)).gateway).toMatchObject({ pending: true });
    await rm(down);
    // The same file written again (as the CLI does when it saves a login unchanged): the watch's pass has nothing to write.
    await writeFile(`${c.sandbox.credentials}.tmp`, credentials, { mode: 0o600 });
    await rename(`${c.sandbox.credentials}.tmp`, c.sandbox.credentials);
    await waitUntil("the watch's reload", async () => (await reloads()).length === 2, { timeoutMs: 15_000, detail: watcher.output });
    expect((await reloads())[1]).toBe(`reload ${watcher.child.pid}`);
    expect(watcher.output()).toContain("the state file holds a reload owed");
    expect(watcher.output().match(/updated to token/g)).toHaveLength(3); // its first pass's, none since
    await waitUntil("the debt paid", async () => (await state(root)).gateway.pending === false, { timeoutMs: 5000 });
  }, 120_000);
});
