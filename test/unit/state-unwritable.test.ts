import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { reloadOnce } from "../../src/gateway/scheduler.ts";
import type { ProcessRunner } from "../../src/process/run.ts";
import { checkOnce } from "../../src/refresh/check.ts";
import { pushAndRecord } from "../../src/push/scheduler.ts";
import { sshTargetSchema } from "../../src/config/ssh.ts";

/**
 * The state file is a record: where it cannot be written (here its directory would be below a regular file, which
 * even root cannot make), the verbs' outcomes are what happened, never a throw that hides them.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function unwritableStateDir(): { dir: string; stateDir: string } {
  const dir = mkdtempSync(join(tmpdir(), "oauth-sync-state-unwritable-"));
  dirs.push(dir);
  writeFileSync(join(dir, "a-file"), "");
  return { dir, stateDir: join(dir, "a-file/state") };
}

const failing: ProcessRunner = async () => ({ code: 1, stdout: "", stderr: "gateway is down", timedOut: false });
const deps = { run: failing, now: Date.now, sleep: async () => {} };

describe("a state file that cannot be written changes no outcome", () => {
  test("reloadOnce: a failed reload is reported as failed (sync exits 4), not lost in a throw", async () => {
    const { stateDir } = unwritableStateDir();
    const result = await reloadOnce({ kind: "command", command: ["reload-it"], env: {}, timeoutSeconds: 5, settleSeconds: 0 }, stateDir, deps);
    expect(result.ok).toBe(false);
  });

  test("a push: its outcome and a record come back", async () => {
    const { stateDir } = unwritableStateDir();
    const target = sshTargetSchema.parse({ kind: "ssh", host: "gw", user: "root", identityFile: "/k", knownHostsFile: "/h" });
    const outcome = await pushAndRecord(target, { line: "{}", fp: fingerprint("x"), expiresAt: Date.now() + 3_600_000 }, { run: failing, now: Date.now, stateDir: () => stateDir });
    expect(outcome.result.kind).not.toBe("held");
    expect(outcome.record.failures).toBe(1);
  });

  test("check: a refresh that did not happen is reported (transient), not a throw", async () => {
    const { dir, stateDir } = unwritableStateDir();
    const credentials = join(dir, ".credentials.json");
    writeFileSync(credentials, credentialsJson(fakeToken(), Date.now() + 60_000), { mode: 0o600 });
    const parsed = parseConfig(JSON.stringify({ credentials, stateDir, targets: [{ kind: "env-file", path: join(dir, ".env") }], trigger: { mode: "host", claude: "claude" }, refresh: { confirmTries: 1 } }), join(dir, "config.json"));
    if (!parsed.ok) throw new Error(parsed.errors.join("; "));
    const offline: ProcessRunner = async () => ({ code: 0, stdout: "", stderr: "", timedOut: false });
    const result = await checkOnce(parsed.config, { ...deps, run: offline, random: () => 0.5, fetch, confirmDelayMs: 0 });
    expect(result.status).toBe("transient");
  });
});
