import { afterEach, describe, expect, test } from "bun:test";
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken, type Sandbox } from "../../src/demo/sandbox.ts";
import { run, start, type Running } from "../support/binary.ts";
import { waitUntil } from "../support/wait.ts";

const HOUR = 3_600_000;
let sandbox: Sandbox | undefined;
let watcher: Running | undefined;

afterEach(async () => {
  await watcher?.stop();
  if (sandbox) await removeSandbox(sandbox);
  watcher = sandbox = undefined;
});

/** A real reload command that logs each call, and fails while a flag file exists. */
async function withCommandGateway(extra: Record<string, unknown> = {}) {
  sandbox = await createSandbox("oauth-sync-reload-");
  const log = join(sandbox.root, "reloads.log");
  const failFlag = join(sandbox.root, "fail");
  const script = join(sandbox.root, "reload.sh");
  await writeFile(script, `#!/bin/sh\nif [ -e ${failFlag} ]; then echo "gateway is down" >&2; exit 7; fi\necho "reload ANTHROPIC_OAUTH_TOKEN=\${ANTHROPIC_OAUTH_TOKEN:-unset}" >> ${log}\n`);
  await chmod(script, 0o755);
  const config = { ...sandbox.config, gateway: { kind: "command", command: [script], settleSeconds: 1, ...extra } };
  await writeFile(sandbox.configPath, JSON.stringify(config));
  const reloads = async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { sandbox, log, failFlag, reloads };
}

describe("gateway reload from the compiled binary", () => {
  test("a burst of rotations gives one reload; an unchanged token gives none", async () => {
    const { sandbox: s, reloads } = await withCommandGateway();
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    watcher = start(["watch", "--config", s.configPath], { ANTHROPIC_OAUTH_TOKEN: fakeToken() });
    await watcher.waitFor("gateway: ran");
    expect(await reloads()).toHaveLength(1);
    // The reload command never inherits the service's environment (a stale token there would win over .env).
    expect((await reloads())[0]).toBe("reload ANTHROPIC_OAUTH_TOKEN=unset");

    let last = "";
    for (let i = 0; i < 10; i++) {
      last = fakeToken();
      await rotate(s, last, Date.now() + 9 * HOUR + i);
      await Bun.sleep(20);
    }
    await waitForToken(Object.values(s.files), last);
    // The reload is numbered in the state file (a durable write) before it runs: on a busy disk that takes seconds.
    await waitUntil("the burst's reload", async () => (await reloads()).length >= 2, { timeoutMs: 20_000, detail: () => watcher!.output() });
    await Bun.sleep(2500);
    expect(await reloads()).toHaveLength(2);

    // Same token rewritten (the CLI adds fields without refreshing): no write, no reload.
    const current = JSON.parse(await readFile(s.credentials, "utf8"));
    await writeFile(`${s.credentials}.tmp`, JSON.stringify({ ...current, mcpOAuth: {} }));
    await rename(`${s.credentials}.tmp`, s.credentials);
    await Bun.sleep(2500);
    expect(await reloads()).toHaveLength(2);
  }, 30_000);

  test("a failed reload is retried with backoff, kept in the state file, and paid once the gateway is back", async () => {
    const { sandbox: s, failFlag, reloads } = await withCommandGateway();
    await writeFile(failFlag, "");
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    watcher = start(["watch", "--config", s.configPath]);
    await watcher.waitFor("attempt 2");
    expect(watcher.output()).toContain("exited 7: gateway is down");
    const state = JSON.parse(await readFile(join(s.root, "state/state.json"), "utf8"));
    expect(state.gateway).toMatchObject({ pending: true, lastError: expect.stringContaining("gateway is down") });
    expect(state.gateway.attempts).toBeGreaterThanOrEqual(2);
    await Bun.$`rm ${failFlag}`;
    await watcher.waitFor("gateway: ran", 15_000);
    expect(await reloads()).toHaveLength(1);
    const after = JSON.parse(await readFile(join(s.root, "state/state.json"), "utf8"));
    expect(after.gateway).toMatchObject({ pending: false, attempts: 0 });
  }, 30_000);

  test("a reload owed by a stopped service is paid when it starts again", async () => {
    const { sandbox: s, failFlag, reloads } = await withCommandGateway();
    await writeFile(failFlag, "");
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    const first = await run(["sync", "--config", s.configPath]);
    expect(first.code).toBe(4);
    expect(first.stderr).toContain("gateway reload failed");
    await Bun.$`rm ${failFlag}`;
    // Nothing changes in the targets now, yet the debt is paid.
    watcher = start(["watch", "--config", s.configPath]);
    await watcher.waitFor("gateway: ran");
    expect(await reloads()).toHaveLength(1);
  }, 30_000);

  test("oauth-sync reload runs it once by hand; sync --no-reload skips it", async () => {
    const { sandbox: s, reloads } = await withCommandGateway();
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    expect((await run(["sync", "--no-reload", "--config", s.configPath])).code).toBe(0);
    expect(await reloads()).toHaveLength(0);
    const manual = await run(["reload", "--config", s.configPath]);
    expect(manual.code).toBe(0);
    expect(await reloads()).toHaveLength(1);
  }, 30_000);
});

describe("a reload owed under an earlier gateway config", () => {
  test("once the config says none: status does not count it, and sync, reload and a starting service drop it", async () => {
    const { sandbox: s, failFlag } = await withCommandGateway();
    await writeFile(failFlag, "");
    await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
    expect((await run(["sync", "--config", s.configPath])).code).toBe(4);
    const stateFile = join(s.root, "state/state.json");
    const owed = JSON.parse(await readFile(stateFile, "utf8"));
    expect(owed.gateway).toMatchObject({ pending: true });
    // The operator removes the gateway from the config.
    await writeFile(s.configPath, JSON.stringify({ ...s.config, gateway: { kind: "none" } }));
    const report = JSON.parse((await run(["status", "--json", "--config", s.configPath])).stdout);
    expect(report.gateway.pending).toBe(false);
    expect(report.problems.join("\n")).not.toContain("reload is owed");

    for (const clear of [["sync"], ["reload"], ["watch"]]) {
      await writeFile(stateFile, JSON.stringify(owed));
      if (clear[0] === "watch") {
        watcher = start(["watch", "--config", s.configPath]);
        await watcher.waitFor("is dropped");
        await watcher.stop();
        watcher = undefined;
      } else {
        const r = await run([...clear, "--config", s.configPath]);
        expect(r.code).toBe(0);
        expect(r.output).toContain("is dropped");
      }
      expect(JSON.parse(await readFile(stateFile, "utf8")).gateway).toMatchObject({ pending: false, attempts: 0 });
    }
  }, 30_000);
});

describe("signal gateway", () => {
  test("SIGUSR1 reaches the process named by the pid file after a change", async () => {
    sandbox = await createSandbox("oauth-sync-signal-");
    const s = sandbox;
    const log = join(s.root, "signals.log");
    const pidFile = join(s.root, "gateway.pid");
    const gateway = Bun.spawn(["sh", "-c", `trap 'echo USR1 >> ${log}' USR1; echo $$ > ${pidFile}; while :; do sleep 0.05; done`]);
    try {
      await waitUntil("the gateway's pid file", () => Bun.file(pidFile).exists(), { timeoutMs: 10_000, intervalMs: 10 });
      await writeFile(s.configPath, JSON.stringify({ ...s.config, gateway: { kind: "signal", pidFile, settleSeconds: 0 } }));
      await rotate(s, fakeToken(), Date.now() + 8 * HOUR);
      const result = await run(["sync", "--config", s.configPath]);
      expect(result.code).toBe(0);
      expect(result.output).toContain(`sent SIGUSR1 to pid ${gateway.pid}`);
      await waitUntil("the gateway's signal log", () => Bun.file(log).exists(), { timeoutMs: 10_000, intervalMs: 10 });
      expect(await readFile(log, "utf8")).toBe("USR1\n");

      gateway.kill();
      await gateway.exited;
      await rotate(s, fakeToken(), Date.now() + 9 * HOUR);
      const stale = await run(["sync", "--config", s.configPath]);
      expect(stale.code).toBe(4);
      expect(stale.stderr).toContain("no such process (stale pid file?)");
    } finally {
      gateway.kill();
    }
  }, 30_000);
});
