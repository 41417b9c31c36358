/**
 * The state file written by several processes at once (the service, the backstop's `check`, a `sync` by hand): no
 * process's update of the record is lost. Real processes (test/support/state-writer.ts), each updating through the
 * store as the service and the verbs do.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STATE_LOCK } from "../../src/state/store.ts";

const root = mkdtempSync(join(tmpdir(), "oauth-sync-state-concurrency-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const WRITER = join(import.meta.dir, "../support/state-writer.ts");

async function writers(dir: string, sections: string[], count: number) {
  const at = Date.now() + 1500;
  const procs = sections.map((section) => Bun.spawn([process.execPath, WRITER, dir, section, String(count), String(at)], { stdout: "pipe", stderr: "pipe" }));
  const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, stderr: await new Response(p.stderr).text() })));
  for (const r of results) expect(r).toEqual({ code: 0, stderr: "" });
  return JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
}

describe("the state file across processes", () => {
  test("three processes, each its own section: every update of each is kept", async () => {
    const dir = join(root, "own");
    const state = await writers(dir, ["watch", "refresh", "gateway"], 150);
    expect({ watch: state.watch?.missed, refresh: state.refresh?.failures, gateway: state.gateway?.attempts }).toEqual({ watch: 150, refresh: 150, gateway: 150 });
    expect(readdirSync(dir).sort()).toEqual(["state.json"]);
  }, 60_000);

  test("two processes writing the same section: every update of both is kept", async () => {
    const dir = join(root, "same");
    const state = await writers(dir, ["gateway", "gateway"], 150);
    expect(state.gateway?.attempts).toBe(300);
    expect(readdirSync(dir).sort()).toEqual(["state.json"]);
  }, 60_000);

  test("a writer killed while it holds the lock: the others take it over at once, and nothing is lost", async () => {
    const dir = join(root, "killed");
    mkdirSync(dir, { mode: 0o700 });
    const holder = Bun.spawn([process.execPath, WRITER, dir, "hold"], { stdout: "pipe", stderr: "inherit" });
    const reader = holder.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("held\n");
    expect(readdirSync(dir)).toContain("state.lock");
    holder.kill("SIGKILL");
    await holder.exited;
    const started = Date.now();
    const state = await writers(dir, ["watch", "refresh"], 50);
    // Well within the lock's stale age: the holder was found gone by its pid, not waited out.
    expect(Date.now() - started).toBeLessThan(STATE_LOCK.staleMs);
    expect({ watch: state.watch?.missed, refresh: state.refresh?.failures }).toEqual({ watch: 50, refresh: 50 });
    expect(readdirSync(dir).sort()).toEqual(["state.json"]);
  }, 60_000);
});
