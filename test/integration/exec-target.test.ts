/**
 * The exec target with real files and programs, as root (the service's user): a stranger's directory, file, link or
 * interpreter refused; the program run with the line on stdin, its exit status, its timeout, its grandchildren. The
 * pure parts are in test/unit/exec-target.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lchownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { ExecTargetConfig } from "../../src/config/schema.ts";
import type { ClaudeCredentials } from "../../src/credentials/parse.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { runProcess } from "../../src/process/run.ts";
import { checkProgram } from "../../src/targets/exec-program.ts";
import { execTarget } from "../../src/targets/exec.ts";

const EXPIRES = Date.UTC(2026, 0, 15, 8);
const OTHER_UID = 47_123; // in no passwd: a stranger who owns a directory
const creds = (accessToken = fakeToken(), expiresAt = EXPIRES): ClaudeCredentials => ({ accessToken, refreshToken: fakeToken("ort"), expiresAt });
let base = "";

function execConfig(target: Record<string, unknown>): ExecTargetConfig {
  const loaded = parseConfig(JSON.stringify({ targets: [{ kind: "exec", user: "root", ...target }] }), "/etc/oauth-sync/config.json");
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  return loaded.config.targets[0] as ExecTargetConfig;
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("these tests chown files to a stranger: run them as root");
  base = join(tmpdir(), `oauth-sync-exec-${process.pid}`);
  mkdirSync(base, { recursive: true, mode: 0o755 });
  chmodSync(base, 0o755);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("the program's file and directories", () => {
  test("real files: a bare name found in root's PATH; a stranger's directory, file, link or interpreter refused", () => {
    expect(checkProgram("sh", 0)).toMatchObject({ ok: true });
    expect(checkProgram("no-such-program-here", 0)).toMatchObject({ ok: false, message: expect.stringContaining("not found") });
    const good = join(base, "good");
    writeFileSync(good, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    expect(checkProgram(good, 0)).toEqual({ ok: true, path: good });
    const strangerDir = join(base, "stranger");
    mkdirSync(strangerDir, { mode: 0o755 });
    chownSync(strangerDir, OTHER_UID, OTHER_UID);
    writeFileSync(join(strangerDir, "prog"), "#!/bin/sh\n", { mode: 0o755 });
    expect(checkProgram(join(strangerDir, "prog"), 0)).toMatchObject({ ok: false, message: expect.stringContaining(`uid ${OTHER_UID}`) });
    expect(checkProgram(join(strangerDir, "prog"), OTHER_UID)).toMatchObject({ ok: true }); // the user's own, run as that user
    const theirs = join(base, "theirs");
    writeFileSync(theirs, "#!/bin/sh\n", { mode: 0o755 });
    chownSync(theirs, OTHER_UID, OTHER_UID);
    expect(checkProgram(theirs, 0)).toMatchObject({ ok: false, message: expect.stringContaining("chown root") });
    const link = join(strangerDir, "link");
    symlinkSync(good, link);
    lchownSync(link, OTHER_UID, OTHER_UID);
    expect(checkProgram(link, 0).ok).toBe(false);
    const viaInterpreter = join(base, "via-interpreter");
    writeFileSync(viaInterpreter, `#!${join(strangerDir, "prog")}\n`, { mode: 0o755 });
    expect(checkProgram(viaInterpreter, 0)).toMatchObject({ ok: false, message: expect.stringContaining("runs") });
    const open = join(base, "open");
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    writeFileSync(join(open, "prog"), "#!/bin/sh\n", { mode: 0o755 });
    expect(checkProgram(join(open, "prog"), 0)).toMatchObject({ ok: false, message: expect.stringContaining("every user") });
  });
});

describe("running it", () => {
  test("a program that exits leaving a child behind (holding what it was fed): the child is killed, not waited for", async () => {
    const pidFile = join(base, "left-behind.pid");
    const started = Date.now();
    const result = await runProcess(["/bin/sh", "-c", `sleep 30 & echo $! > ${pidFile}; echo started`], { env: { PATH: "/usr/bin:/bin" }, timeoutMs: 20_000, group: true });
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("started");
    const pid = Number(readFileSync(pidFile, "utf8"));
    await Bun.sleep(200);
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")).toBe(false);
  });

  test("a child that ran away into a group of its own still does not keep us beyond a short grace", async () => {
    const pidFile = join(base, "escaped.pid");
    const started = Date.now();
    const result = await runProcess(["/bin/sh", "-c", `setsid sleep 30 & echo $! > ${pidFile}; echo started`], { env: { PATH: "/usr/bin:/bin" }, timeoutMs: 20_000, group: true });
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(result.code).toBe(0);
    try {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {
      // gone already
    }
  });

  test("on timeout the whole group is killed, grandchildren too", async () => {
    const pidFile = join(base, "grandchild.pid");
    const started = Date.now();
    const result = await runProcess(["/bin/sh", "-c", `sleep 300 & echo $! > ${pidFile}; wait`], { env: { PATH: "/usr/bin:/bin" }, timeoutMs: 500, group: true });
    expect(result.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number(readFileSync(pidFile, "utf8"));
    await Bun.sleep(200);
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")).toBe(false);
  });

  test("a real program takes the line on stdin; the state record decides unchanged, older, retry and --force", async () => {
    const store = join(base, "store.txt");
    const seen = join(base, "seen.txt");
    const program = join(base, "store-token");
    // Stores the token in a format of its own, and records what it could see of itself: argv and environment.
    writeFileSync(program, `#!/bin/sh\nread line\nprintf 'token-store v1\\n%s\\n' "$line" > ${store}\n{ tr '\\0' ' ' < /proc/$$/cmdline; echo; tr '\\0' '\\n' < /proc/$$/environ; } > ${seen}\n`, { mode: 0o755 });
    const target = execTarget(execConfig({ command: [program, "--namespace", "prod"] }));
    const c = creds();
    let runs = 0;
    const run: typeof runProcess = (argv, options) => (runs++, runProcess(argv, options));
    const context = { now: Date.now(), state: undefined, run, loginUid: 0 };
    expect(await target.sync(c, context)).toEqual({ id: `exec:${program} --namespace prod`, status: "written" });
    const stored = readFileSync(store, "utf8").split("\n");
    expect(stored[0]).toBe("token-store v1");
    expect(JSON.parse(stored[1]!)).toEqual({ accessToken: c.accessToken, expiresAt: EXPIRES });
    const itself = readFileSync(seen, "utf8");
    expect(itself).toContain("--namespace prod");
    expect(itself).not.toContain(c.accessToken);
    expect(itself).not.toContain(c.refreshToken!);
    expect(itself).toContain("USER=root");

    const delivered = { fingerprint: fingerprint(c.accessToken), expiresAt: EXPIRES };
    expect((await target.sync(c, { ...context, state: delivered })).status).toBe("unchanged");
    expect(runs).toBe(1);
    const older = await target.sync(creds(fakeToken(), EXPIRES - 60_000), { ...context, state: delivered });
    expect(older.status).toBe("refused");
    expect(older.message).toContain("expires after the credentials' one");
    expect(runs).toBe(1);
    expect((await target.sync(c, { ...context, state: { ...delivered, lastError: "x" } })).status).toBe("written");
    expect((await target.sync(c, { ...context, state: delivered, force: true })).status).toBe("written");
    expect(runs).toBe(3);
  });

  test("its exit status is the outcome; its words come back as quoted text", async () => {
    const program = join(base, "fails");
    writeFileSync(program, `#!/bin/sh\ncat >/dev/null\nprintf 'denied\\n\\033]0;pwned\\007\\n[error] fake line\\n' >&2\nexit 3\n`, { mode: 0o755 });
    const outcome = await execTarget(execConfig({ command: [program] })).sync(creds(), { now: Date.now(), state: undefined, run: runProcess, loginUid: 0 });
    expect(outcome.status).toBe("failed");
    expect(outcome.message).toContain("exited 3");
    expect(outcome.message).toContain("\\x1b]0;pwned");
    expect(outcome.message).not.toContain("\n");
    // eslint-disable-next-line no-control-regex
    expect(outcome.message).not.toMatch(/[\x00-\x1f]/);
  });

  test("a program that hangs is killed at its timeout", async () => {
    const program = join(base, "hangs");
    writeFileSync(program, "#!/bin/sh\nsleep 300\n", { mode: 0o755 });
    const started = Date.now();
    const outcome = await execTarget(execConfig({ command: [program], timeoutSeconds: 0.5 })).sync(creds(), { now: Date.now(), state: undefined, run: runProcess, loginUid: 0 });
    expect(outcome).toMatchObject({ status: "failed", message: expect.stringContaining("did not finish within 0.5s") });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
