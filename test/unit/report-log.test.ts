import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { fakeToken } from "../../src/demo/sandbox.ts";
import { logger } from "../../src/log/logger.ts";
import { fingerprint } from "../../src/log/redact.ts";
import type { SyncReport } from "../../src/sync/engine.ts";
import { logReport, problemMemory, REPEAT_EVERY_MS } from "../../src/sync/report.ts";

/**
 * What the resident service logs per pass: a failing target is logged again with each new token and at a bounded
 * cadence, with how often it failed (issue 21: after a rotation the journal showed only the targets that succeeded).
 */

const lines: Array<{ type: string; text: string }> = [];
const reporters = logger.options.reporters;
const level = logger.level;
beforeAll(() => {
  // consola holds back a line logged more than 5 times within 1 s and lets it out at the next call, to whatever
  // reporters are set then: a line another file repeated is let out here, to nobody, before this file's are caught.
  logger.setReporters([{ log: () => {} }]);
  logger.level = 3;
  logger.info("");
  logger.setReporters([{ log: (entry) => void lines.push({ type: entry.type, text: entry.args.join(" ") }) }]);
});
afterAll(() => {
  logger.setReporters(reporters);
  logger.level = level;
});
afterEach(() => void lines.splice(0));

const T0 = Date.parse("2026-05-01T12:00:00Z");
const pass = (token: string, failing: boolean, stateError?: string): SyncReport => ({
  source: { ok: true, credentials: { accessToken: token, refreshToken: fakeToken("ort"), expiresAt: T0 + 8 * 3_600_000, subscriptionType: "max" } as never },
  outcomes: [
    { id: "env-file:/srv/openclaw/.env", status: "written" },
    failing ? { id: "openclaw-oauth-json:/srv/oc/oauth.json", status: "failed", message: "cannot write: read-only file system (EROFS)" } : { id: "openclaw-oauth-json:/srv/oc/oauth.json", status: "written" },
  ],
  changed: true,
  reloadNeeded: false,
  ok: !failing,
  ...(stateError ? { stateError } : {}),
});
const errors = () => lines.filter((l) => l.type === "error").map((l) => l.text);

describe("logReport in the resident service", () => {
  test("a failing target: logged when it appears, quiet on the next passes with the same token, logged again with each new token", () => {
    const memory = problemMemory();
    const first = fakeToken();
    logReport(pass(first, true), memory, T0);
    logReport(pass(first, true), memory, T0 + 30_000);
    logReport(pass(first, true), memory, T0 + 60_000);
    expect(errors()).toEqual(["openclaw-oauth-json:/srv/oc/oauth.json: cannot write: read-only file system (EROFS)"]);
    const second = fakeToken();
    logReport(pass(second, true), memory, T0 + 90_000);
    expect(errors()[1]).toBe(`openclaw-oauth-json:/srv/oc/oauth.json: cannot write: read-only file system (EROFS) (still failing: 4 passes since ${new Date(T0).toISOString()})`);
    // The target that worked says so at every rotation, and the failing one is not hidden among them.
    const successes = lines.filter((l) => l.type === "success").map((l) => l.text);
    expect(successes).toHaveLength(4);
    expect(successes[3]).toStartWith(`env-file:/srv/openclaw/.env: updated to token ${fingerprint(second)} (expires in`);
  });

  test("the same token failing for long: again every REPEAT_EVERY_MS, not every retry", () => {
    const memory = problemMemory();
    const token = fakeToken();
    for (let t = 0; t <= 2 * REPEAT_EVERY_MS; t += 30_000) logReport(pass(token, true), memory, T0 + t);
    expect(errors()).toHaveLength(3);
    expect(errors()[2]).toContain(`(still failing: ${(2 * REPEAT_EVERY_MS) / 30_000 + 1} passes since`);
  });

  test("recovery is logged once; a failure after it is a new one", () => {
    const memory = problemMemory();
    const token = fakeToken();
    logReport(pass(token, true), memory, T0);
    logReport(pass(token, false), memory, T0 + 1000);
    expect(lines.map((l) => l.text)).toContain(`openclaw-oauth-json:/srv/oc/oauth.json: recovered, holds token ${fingerprint(token)} (expires in 7h59m)`);
    logReport(pass(token, true), memory, T0 + 2000);
    expect(errors()).toHaveLength(2);
    expect(errors()[1]).not.toContain("still failing");
  });

  test("a state record that cannot be written: logged (syncing goes on), its end too", () => {
    const memory = problemMemory();
    const token = fakeToken();
    logReport(pass(token, false, "cannot record the pass in /var/lib/oauth-sync: EROFS"), memory, T0);
    logReport(pass(token, false, "cannot record the pass in /var/lib/oauth-sync: EROFS"), memory, T0 + 1000);
    logReport(pass(token, false), memory, T0 + 2000);
    expect(errors()).toEqual(["state: cannot record the pass in /var/lib/oauth-sync: EROFS; syncing goes on"]);
    expect(lines.map((l) => l.text)).toContain("state: the record is written again");
  });

  test("a one-shot verb (no memory) logs every problem it meets", () => {
    const token = fakeToken();
    logReport(pass(token, true), undefined, T0);
    logReport(pass(token, true), undefined, T0);
    expect(errors()).toHaveLength(2);
  });
});
