import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { createReloadScheduler } from "../../src/gateway/scheduler.ts";
import type { RunResult } from "../../src/process/run.ts";
import { waitUntil } from "../support/wait.ts";

/** The reload scheduler with a `command` gateway whose runs the test ends by hand; the state file is real. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "oauth-sync-reload-scheduler-"));
  dirs.push(dir);
  const parsed = parseConfig(
    JSON.stringify({ credentials: join(dir, "c.json"), stateDir: join(dir, "state"), targets: [{ kind: "env-file", path: join(dir, ".env") }], gateway: { kind: "command", command: ["reload-it"], settleSeconds: 0 } }),
    join(dir, "config.json"),
  );
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const runs: Array<(result: RunResult) => void> = [];
  const scheduler = createReloadScheduler(parsed.config, {
    run: () => new Promise<RunResult>((resolve) => runs.push(resolve)),
    now: Date.now,
    sleep: async () => {},
    random: () => 0.5,
  });
  const pending = () => JSON.parse(readFileSync(join(dir, "state/state.json"), "utf8")).gateway.pending;
  const until = (what: string, condition: () => boolean) => waitUntil(what, condition, { timeoutMs: 1000, intervalMs: 5, onTimeout: "continue" });
  return { scheduler, runs, pending, until };
}

const ok: RunResult = { code: 0, stdout: "", stderr: "", timedOut: false };

describe("the reload debt", () => {
  test("a change that comes in while a reload runs stays owed when that reload succeeds, until its own reload ran", async () => {
    const { scheduler, runs, pending, until } = setup();
    try {
      await scheduler.request();
      await until("the first reload started", () => runs.length === 1);
      expect(pending()).toBe(true);
      // A second change while the first reload runs.
      await scheduler.request();
      runs[0]!(ok);
      await until("the second reload started", () => runs.length === 2);
      expect(runs).toHaveLength(2);
      // The first reload succeeded, but the second change's reload has not run to its end: still owed (a service
      // stopped now pays it at its next start).
      expect(pending()).toBe(true);
      runs[1]!(ok);
      await until("the debt paid", () => pending() === false);
      expect(pending()).toBe(false);
    } finally {
      for (const end of runs) end(ok);
      await scheduler.stop();
    }
  });
});
