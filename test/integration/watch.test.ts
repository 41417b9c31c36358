import { afterEach, describe, expect, test } from "bun:test";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox, credentialsJson, fakeToken, removeSandbox, rotate, waitForToken, type Sandbox } from "../../src/demo/sandbox.ts";
import { unmountWhenFree } from "../../bench/support/soak/locks.ts";
import { start, type Running } from "../support/binary.ts";
import { canBindMount } from "../support/mounts.ts";

const HOUR = 3_600_000;
let sandbox: Sandbox | undefined;
let watcher: Running | undefined;

afterEach(async () => {
  await watcher?.stop();
  if (sandbox) await removeSandbox(sandbox);
  watcher = sandbox = undefined;
});

const targetPaths = (s: Sandbox) => Object.values(s.files);

/** The mount tests need bind mounts and findmnt, which is how the service sees them. */
const canMount = () => Boolean(Bun.which("findmnt")) && canBindMount();

async function startWatching(extraEnv: Record<string, string> = {}, prepare?: (s: Sandbox) => Promise<unknown>) {
  sandbox = await createSandbox("oauth-sync-watch-");
  await prepare?.(sandbox);
  const first = fakeToken();
  await rotate(sandbox, first, Date.now() + 8 * HOUR);
  watcher = start(["watch", "--config", sandbox.configPath, "--verbose"], extraEnv);
  await waitForToken(targetPaths(sandbox), first, 10_000);
  return { sandbox, watcher, first };
}

/** Reads every target in a loop and counts the times one was not parseable: what a reading OpenClaw would see. */
function pollTargets(s: Sandbox) {
  let reads = 0;
  const broken: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const path of [s.files.authProfiles, s.files.oauthJson]) {
        const text = await readFile(path, "utf8");
        reads++;
        try {
          JSON.parse(text);
        } catch {
          broken.push(`${path}: ${text.slice(0, 40)}`);
        }
      }
      const env = await readFile(s.files.envFile, "utf8");
      reads++;
      if (!/^ANTHROPIC_OAUTH_TOKEN=sk-ant-oat01-[A-Za-z0-9_-]{80,}$/m.test(env)) broken.push(`.env: ${env.length} bytes`);
      await Bun.sleep(0);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { reads, broken };
    },
  };
}

describe("oauth-sync watch (compiled binary)", () => {
  test("100 renames: every target ends on the last token and a reader never sees a broken target", async () => {
    const { sandbox: s, watcher: w } = await startWatching();
    const poller = pollTargets(s);
    const tokens: string[] = [];
    for (let i = 0; i < 100; i++) {
      const token = fakeToken();
      tokens.push(token);
      await rotate(s, token, Date.now() + 8 * HOUR + i * 1000);
      if (i % 10 !== 0) await Bun.sleep(Math.random() * 8); // bursts and gaps
    }
    const last = tokens.at(-1)!;
    await waitForToken(targetPaths(s), last, 10_000);
    await Bun.sleep(300); // any straggling sync must not go back to an older token
    const { reads, broken } = await poller.stop();
    expect(broken).toEqual([]);
    expect(reads).toBeGreaterThan(100);
    for (const path of targetPaths(s)) expect(await readFile(path, "utf8")).toContain(last);
    // No token ever reaches the log or the state file.
    const state = await readFile(join(s.root, "state/state.json"), "utf8");
    for (const token of tokens) {
      expect(w.output()).not.toContain(token);
      expect(state).not.toContain(token);
    }
    expect(JSON.parse(state).targets[`env-file:${s.files.envFile}`].fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(await w.stop()).toBe(0);
  }, 60_000);

  test("watch restarts itself (execve, same pid) without the JIT and the GC timer; a setting already made is kept", async () => {
    const environ = async (pid: number) => (await readFile(`/proc/${pid}/environ`, "utf8")).split("\0");
    const { watcher: w } = await startWatching();
    expect(await environ(w.child.pid!)).toEqual(expect.arrayContaining(["BUN_JSC_useJIT=0", "BUN_GC_TIMER_DISABLE=1"]));
    expect(await w.stop()).toBe(0);
    await removeSandbox(sandbox!);
    const kept = await startWatching({ BUN_JSC_useJIT: "1" });
    expect(await environ(kept.watcher.child.pid!)).toEqual(expect.arrayContaining(["BUN_JSC_useJIT=1", "BUN_GC_TIMER_DISABLE=1"]));
  }, 60_000);

  test("a file written in place and read half-way is never synced; the finished file is", async () => {
    const { sandbox: s } = await startWatching();
    const token = fakeToken();
    const full = credentialsJson(token, Date.now() + 9 * HOUR);
    await writeFile(s.credentials, full.slice(0, full.length / 2));
    await Bun.sleep(400);
    for (const path of [s.files.authProfiles, s.files.oauthJson]) JSON.parse(await readFile(path, "utf8"));
    await writeFile(s.credentials, full);
    await waitForToken(targetPaths(s), token, 5000);
  }, 30_000);

  test("a blanked login (the CLI's invalid_grant) is refused and the targets keep the last good token", async () => {
    const { sandbox: s, watcher: w, first } = await startWatching();
    await writeFile(`${s.credentials}.tmp`, JSON.stringify({ claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0 } }));
    await rename(`${s.credentials}.tmp`, s.credentials);
    await w.waitFor("blanked login");
    expect(w.output()).toContain(s.credentials);
    for (const path of targetPaths(s)) expect(await readFile(path, "utf8")).toContain(first);
  }, 30_000);

  test("a failing target is logged again with each new token (with a count), beside the targets that were written", async () => {
    sandbox = await createSandbox("oauth-sync-watch-");
    const s = sandbox;
    // The oauth.json target cannot be written: a file stands where its directory should be.
    await writeFile(join(s.root, "openclaw/credentials"), "not a directory");
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    const w = (watcher = start(["watch", "--config", s.configPath]));
    const failing = `openclaw-oauth-json:${s.files.oauthJson}:`;
    const count = () => w.output().split("\n").filter((line) => line.startsWith(`[error] ${failing}`)).length;
    await w.waitFor(`[error] ${failing}`);
    expect(count()).toBe(1);
    for (let i = 1; i <= 2; i++) {
      const token = fakeToken();
      await rotate(s, token, Date.now() + (8 + i) * HOUR);
      await waitForToken([s.files.envFile, s.files.authProfiles], token, 5000);
      await w.waitFor(new RegExp(`still failing: ${i + 1} passes since`));
      expect(count()).toBe(i + 1);
    }
  }, 30_000);

  // No poll: the reconcile is a day away and the tokens live for hours, so no safety net runs during these tests.
  // Only the parent directory's events and the mount monitor can tell the service to watch the new directory.
  const farReconcile = async (s: Sandbox) => writeFile(s.configPath, JSON.stringify({ ...s.config, watch: { reconcileSeconds: 86_400 } }));

  /** Two rotations (expiring `hours` and `hours` + 1 from now) must reach the targets. */
  async function rotatesAfterReplacement(s: Sandbox, hours = 9) {
    const token = fakeToken();
    await rotate(s, token, Date.now() + hours * HOUR);
    await waitForToken(targetPaths(s), token, 10_000);
    const again = fakeToken();
    await rotate(s, again, Date.now() + (hours + 1) * HOUR);
    await waitForToken(targetPaths(s), again, 10_000);
  }

  test("the credentials directory deleted and recreated (a remounted volume) is watched again", async () => {
    const { sandbox: s } = await startWatching({}, farReconcile);
    const dir = join(s.root, "claude");
    await rm(dir, { recursive: true });
    await Bun.sleep(100);
    await mkdir(dir, { mode: 0o700 });
    await rotatesAfterReplacement(s);
  }, 30_000);

  test("the credentials directory renamed away and a new one put in its place is watched", async () => {
    const { sandbox: s, watcher: w } = await startWatching({}, farReconcile);
    const dir = join(s.root, "claude");
    await rename(dir, `${dir}.old`);
    await w.waitFor("is gone");
    await mkdir(dir, { mode: 0o700 });
    await rotatesAfterReplacement(s);
    // The old directory is no longer what counts: a rotation there is not synced.
    const stray = fakeToken();
    await rotate({ credentials: join(`${dir}.old`, ".credentials.json") }, stray, Date.now() + 11 * HOUR);
    await Bun.sleep(500);
    for (const path of targetPaths(s)) expect(await readFile(path, "utf8")).not.toContain(stray);
  }, 30_000);

  test.skipIf(!canMount())("a directory bind-mounted over the credentials directory is watched", async () => {
    const { sandbox: s, watcher: w } = await startWatching({}, farReconcile);
    const dir = join(s.root, "claude");
    const other = join(s.root, "other-volume");
    await mkdir(other, { mode: 0o700 });
    await Bun.sleep(1500); // past the service's single look at start: only the mount monitor can see this
    expect(Bun.spawnSync(["mount", "--bind", other, dir]).exitCode).toBe(0);
    try {
      await w.waitFor("was replaced");
      await rotatesAfterReplacement(s);
      // And unmounted again: the original directory is back and watched.
      const unmounted = await unmountWhenFree(dir);
      expect(unmounted.code, unmounted.output).toBe(0);
      await rotatesAfterReplacement(s, 11);
    } finally {
      Bun.spawnSync(["umount", dir]);
    }
  }, 30_000);

  test("SIGHUP reloads the config; a broken config on SIGHUP keeps the old one", async () => {
    const { sandbox: s, watcher: w, first } = await startWatching();
    const extra = join(s.root, "second/.env");
    const config = { ...s.config, targets: [...(s.config.targets as object[]), { kind: "env-file", path: extra }] };
    await writeFile(s.configPath, JSON.stringify(config));
    w.child.kill("SIGHUP");
    await waitForToken([extra], first, 5000);
    expect((await stat(extra)).mode & 0o777).toBe(0o600);
    expect((await stat(join(s.root, "second"))).mode & 0o777).toBe(0o700);

    await writeFile(s.configPath, "{ not json");
    w.child.kill("SIGHUP");
    await w.waitFor("keeping the previous one");
    const token = fakeToken();
    await rotate(s, token, Date.now() + 9 * HOUR);
    await waitForToken([...targetPaths(s), extra], token, 5000);
    expect(await w.stop("SIGINT")).toBe(0);
  }, 30_000);
});
