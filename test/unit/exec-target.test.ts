import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import type { ClaudeCredentials } from "../../src/credentials/parse.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";
import { readablePaths, writablePaths } from "../../src/systemd/paths.ts";
import { programProblem, shebangInterpreter } from "../../src/targets/exec-program.ts";
import { execEnv, execPayload, execUser, quoteOutput, refreshTokenRefusal } from "../../src/targets/exec.ts";

const EXPIRES = Date.UTC(2026, 0, 15, 8);
const creds = (accessToken = fakeToken(), expiresAt = EXPIRES): ClaudeCredentials => ({ accessToken, refreshToken: fakeToken("ort"), expiresAt });
// Real files and programs (a stranger's directory, running it as root): test/integration/exec-target.test.ts.

describe("what crosses to the program", () => {
  test("one JSON line with the fields asked for, nothing else", () => {
    const c = creds();
    expect(execPayload(c, ["accessToken"])).toBe(`${JSON.stringify({ accessToken: c.accessToken })}\n`);
    expect(JSON.parse(execPayload(c, ["accessToken", "expiresAt"]))).toEqual({ accessToken: c.accessToken, expiresAt: EXPIRES });
    expect(execPayload(c, ["accessToken", "expiresAt"])).not.toContain(c.refreshToken!);
    expect(execPayload(c, ["accessToken", "expiresAt"]).split("\n")).toHaveLength(2);
  });

  test("the refresh token only where asked and run as the login's owner, never for a pushed token", () => {
    const c = creds();
    expect(refreshTokenRefusal(["accessToken"], 1000, 0, c)).toBeUndefined();
    expect(refreshTokenRefusal(["accessToken", "refreshToken"], 1000, 1000, c)).toBeUndefined();
    expect(refreshTokenRefusal(["accessToken", "refreshToken"], 1000, 0, c)).toContain("never leaves the login's owner");
    expect(refreshTokenRefusal(["accessToken", "refreshToken"], 0, undefined, c)).toContain("pushed");
    expect(refreshTokenRefusal(["accessToken", "refreshToken"], 0, 0, { ...c, refreshToken: undefined })).toContain("holds none");
  });

  test("the environment: the operator's extras, but PATH and the identity are ours, and no token anywhere", () => {
    const env = execEnv({ name: "alice", uid: 1000, gid: 1000, home: "/home/alice" }, { KUBECONFIG: "/etc/k", PATH: "/home/alice/bin", HOME: "/tmp" });
    expect(env).toEqual({ LANG: "C.UTF-8", KUBECONFIG: "/etc/k", PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/home/alice", USER: "alice", LOGNAME: "alice" });
  });

  test("as whom: a name or a uid in passwd; only root runs it as another", () => {
    const passwd = [{ name: "alice", uid: 1000, gid: 1000, home: "/home/alice" }];
    expect(execUser("alice", 0, passwd)).toMatchObject({ ok: true, entry: { uid: 1000 } });
    expect(execUser("1000", 0, passwd)).toMatchObject({ ok: true, entry: { name: "alice" } });
    expect(execUser("bob", 0, passwd)).toMatchObject({ ok: false });
    expect(execUser("alice", 1001, passwd)).toMatchObject({ ok: false, message: expect.stringContaining("only root") });
    expect(execUser("alice", 1000, passwd)).toMatchObject({ ok: true });
  });

  test("config: fields must include the access token, once each; the program absolute or a bare name", () => {
    const parse = (t: Record<string, unknown>) => parseConfig(JSON.stringify({ targets: [{ kind: "exec", user: "root", command: ["/bin/true"], ...t }] }), "/etc/c.json").ok;
    expect(parse({})).toBe(true);
    expect(parse({ fields: ["expiresAt"] })).toBe(false);
    expect(parse({ fields: ["accessToken", "accessToken"] })).toBe(false);
    expect(parse({ fields: ["accessToken", "password"] })).toBe(false);
    expect(parse({ command: ["bin/store"] })).toBe(false);
    expect(parse({ command: ["store"] })).toBe(true);
    expect(parse({ user: undefined })).toBe(false);
    expect(parse({ writes: ["relative"] })).toBe(false);
  });
});

describe("the hardened unit around it", () => {
  test("the directories it writes are the service's ReadWritePaths; a program in a home stays visible", () => {
    const loaded = parseConfig(
      JSON.stringify({ credentials: "/root/.claude/.credentials.json", targets: [{ kind: "exec", user: "ops", command: ["/home/ops/bin/store"], writes: ["/srv/ops/tokens"] }, { kind: "exec", user: "ops", command: ["kubectl"] }] }),
      "/etc/oauth-sync/config.json",
    );
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    expect(writablePaths(loaded.config)).toContain("/srv/ops/tokens");
    expect(readablePaths(loaded.config)).toContain("/home/ops/bin/store");
    expect(readablePaths(loaded.config)).not.toContain("kubectl");
  });
});

describe("what comes back from the program", () => {
  test("quoted output is text: escapes, OSC 52, CR and newlines are written out, tokens redacted, bounded", () => {
    const token = fakeToken();
    const hostile = `ok\n\x1b]52;c;Y3VybCBldmlsfHNo\x07\x1b[2K\r[error] root login expired\n${token}\n\u009b31m`;
    const shown = quoteOutput(hostile);
    // eslint-disable-next-line no-control-regex
    expect(shown).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(shown).toContain("\\x1b]52");
    expect(shown).not.toContain(token);
    expect(quoteOutput("x".repeat(10_000)).length).toBeLessThanOrEqual(301);
  });
});

describe("the program's file and directories", () => {
  test("pure: root's or the user's own, nobody else's, not group/world-writable, executable", () => {
    const ok = { ok: true as const, uid: 0 };
    expect(programProblem("/p", ok, { uid: 0, mode: 0o100755 }, 1000)).toBeUndefined();
    expect(programProblem("/p", { ok: true, uid: 1000 }, { uid: 1000, mode: 0o100700 }, 1000)).toBeUndefined();
    expect(programProblem("/p", { ok: true, uid: 1001 }, { uid: 1000, mode: 0o100755 }, 1000)).toContain("directory of uid 1001");
    expect(programProblem("/p", ok, { uid: 1001, mode: 0o100755 }, 1000)).toContain("belongs to uid 1001");
    expect(programProblem("/p", ok, { uid: 0, mode: 0o100775 }, 1000)).toContain("chmod go-w");
    expect(programProblem("/p", ok, { uid: 0, mode: 0o100757 }, 1000)).toContain("every user");
    expect(programProblem("/p", ok, { uid: 0, mode: 0o100644 }, 1000)).toContain("not executable");
    expect(programProblem("/p", { ok: false, message: "/x is writable by every user" }, { uid: 0, mode: 0o100755 }, 1000)).toContain("every user");
  });

  test("#! lines", () => {
    expect(shebangInterpreter(Buffer.from("#!/bin/sh -e\necho"))).toBe("/bin/sh");
    expect(shebangInterpreter(Buffer.from("#! /usr/bin/env python3\n"))).toBe("/usr/bin/env");
    expect(shebangInterpreter(Buffer.from("\x7fELF"))).toBeUndefined();
  });
});
