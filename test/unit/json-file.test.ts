import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { ClaudeCredentials } from "../../src/credentials/parse.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";
import { locate, parsePointer, setAt } from "../../src/json/pointer.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { createTarget } from "../../src/targets/index.ts";
import { formatExpiry, planJsonFile } from "../../src/targets/json-file.ts";

const EXPIRES = Date.UTC(2026, 0, 15, 8, 0, 0);
const credentials = (accessToken = fakeToken(), expiresAt = EXPIRES): ClaudeCredentials => ({ accessToken, refreshToken: fakeToken("ort"), expiresAt });
const options = (extra: Record<string, unknown> = {}) => ({ path: "/srv/app/config.json", tokenPointer: "/auth/token", expiresAtFormat: "ms" as const, ...extra });

function plan(text: string | undefined, extra: Record<string, unknown> = {}, creds = credentials()) {
  const planned = planJsonFile(text, creds, options(extra) as never);
  if (!planned.ok) throw new Error(planned.error);
  return planned;
}

describe("JSON pointer (RFC 6901)", () => {
  test("tokens are unescaped ~1 then ~0, and the RFC's own examples resolve", () => {
    expect(parsePointer("/a~1b/m~0n/~01")).toEqual(["a/b", "m~n", "~1"]);
    const doc = { foo: ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, 'k"l': 6, " ": 7, "m~n": 8 };
    const at = (p: string) => locate(doc, parsePointer(p));
    expect(at("/foo/0")).toEqual({ ok: true, found: true, value: "bar" });
    expect(at("/")).toEqual({ ok: true, found: true, value: 0 });
    expect(at("/a~1b")).toEqual({ ok: true, found: true, value: 1 });
    expect(at("/m~0n")).toEqual({ ok: true, found: true, value: 8 });
    expect(at("/ ")).toEqual({ ok: true, found: true, value: 7 });
  });

  test("a pointer that is not one, the whole document, and a bad escape are refused", () => {
    for (const bad of ["", "a/b", "/a~2", "/~"]) expect(() => parsePointer(bad)).toThrow("not a JSON pointer");
  });

  test("only existing array elements, and never inside a scalar", () => {
    expect(locate({ list: [1] }, ["list", "1"]).ok).toBe(false);
    expect(locate({ list: [1] }, ["list", "-"]).ok).toBe(false);
    expect(locate({ list: [1] }, ["list", "01"]).ok).toBe(false);
    expect(locate({ a: "text" }, ["a", "b"])).toMatchObject({ ok: false, error: expect.stringContaining("not an object") });
    expect(locate({ a: {} }, ["a", "b", "c"])).toEqual({ ok: true, found: false });
    expect(setAt({ a: [{ x: 1 }] }, ["a", "0", "y", "z"], 2)).toEqual({ a: [{ x: 1, y: { z: 2 } }] });
  });
});

describe("planJsonFile", () => {
  test("replaces the token in place: every other byte stays, indentation and key order included", () => {
    const token = fakeToken();
    const before = `{\n\t"zeta": 1,\n\t"auth": {\n\t\t"token": "old",   "mode": "bearer"\n\t},\n\t"list": [1,2,  3]\n}`;
    const planned = plan(before, {}, credentials(token));
    expect(planned.next).toBe(before.replace('"old"', JSON.stringify(token)));
    expect(planned.held).toEqual({ token: "old", expiresAt: undefined });
  });

  test("inserts a missing member (and its missing parents) without reformatting the rest", () => {
    const token = fakeToken();
    const before = '{\n    "name": "app",\n    "auth": {\n        "mode": "bearer"\n    }\n}\n';
    const next = plan(before, { tokenPointer: "/auth/anthropic/token" }, credentials(token)).next;
    expect(JSON.parse(next)).toEqual({ name: "app", auth: { mode: "bearer", anthropic: { token } } });
    expect(next.startsWith('{\n    "name": "app",\n    "auth": {\n')).toBe(true);
    expect(next.endsWith('        "mode": "bearer"\n    }\n}\n')).toBe(true);
  });

  test("token and expiry under a missing parent go in as one member, in that order", () => {
    const token = fakeToken();
    const next = plan('{"a": 1}', { tokenPointer: "/auth/token", expiresAtPointer: "/auth/expires" }, credentials(token)).next;
    expect(next).toBe(`{ "auth": {"token":"${token}","expires":${EXPIRES}},"a": 1}`);
  });

  test("the expiry in each format, and the held expiry read back in that format", () => {
    expect(formatExpiry(EXPIRES, "ms")).toBe(EXPIRES);
    expect(formatExpiry(EXPIRES, "s")).toBe(EXPIRES / 1000);
    expect(formatExpiry(EXPIRES, "iso")).toBe("2026-01-15T08:00:00.000Z");
    for (const format of ["ms", "s", "iso"] as const) {
      const first = plan(undefined, { expiresAtPointer: "/auth/expires", expiresAtFormat: format });
      expect(JSON.parse(first.next).auth.expires).toEqual(formatExpiry(EXPIRES, format));
      const again = plan(first.next, { expiresAtPointer: "/auth/expires", expiresAtFormat: format });
      expect(again.held?.expiresAt).toBe(EXPIRES);
    }
  });

  test("a missing or blank file becomes a small document with just these keys", () => {
    const token = fakeToken();
    for (const text of [undefined, "", "  \n"]) {
      expect(plan(text, {}, credentials(token)).next).toBe(`{\n  "auth": {\n    "token": "${token}"\n  }\n}\n`);
    }
  });

  test("nothing changed: the very same text, so no write", () => {
    const token = fakeToken();
    const text = `{"auth":{"token":"${token}","expires":${EXPIRES}}}`;
    expect(plan(text, { expiresAtPointer: "/auth/expires" }, credentials(token)).next).toBe(text);
  });

  test("refuses what it would damage: not JSON, a non-string at the token's place, an object at the expiry's, a path through a scalar", () => {
    const refusals: Array<[string, Record<string, unknown>]> = [
      ["{not json", {}],
      ['{"auth":{"token":{"nested":1}}}', {}],
      ['{"auth":{"token":["a"]}}', {}],
      ['{"auth":{"token":"x","expires":{"at":1}}}', { expiresAtPointer: "/auth/expires" }],
      ['{"auth":"string"}', {}],
      ['{"auth":[]}', { tokenPointer: "/auth/0" }],
      ["42", {}],
    ];
    for (const [text, extra] of refusals) {
      const planned = planJsonFile(text, credentials(), options(extra) as never);
      expect(planned.ok).toBe(false);
      if (!planned.ok) expect(planned.error).toContain("/srv/app/config.json");
    }
  });

  test("an existing array element can hold the token", () => {
    const token = fakeToken();
    const next = plan('{"keys": ["a", "b"]}', { tokenPointer: "/keys/1" }, credentials(token)).next;
    expect(next).toBe(`{"keys": ["a", ${JSON.stringify(token)}]}`);
  });

  test("escaped keys: a member named with / and ~", () => {
    const token = fakeToken();
    const next = plan('{"a/b": {"m~n": "old"}}', { tokenPointer: "/a~1b/m~0n" }, credentials(token)).next;
    expect(JSON.parse(next)).toEqual({ "a/b": { "m~n": token } });
  });
});

describe("the json-file target in the config", () => {
  const base = (target: Record<string, unknown>) => parseConfig(JSON.stringify({ targets: [{ kind: "json-file", path: "/srv/app/config.json", ...target }] }), "/etc/oauth-sync/config.json");

  test("defaults: ms, no reload; bad pointers and overlapping pointers are refused", () => {
    const ok = base({ tokenPointer: "/auth/token" });
    expect(ok.ok && ok.config.targets[0]).toMatchObject({ expiresAtFormat: "ms", reload: false, replaceNewer: false, write: "atomic" });
    for (const bad of [{}, { tokenPointer: "auth/token" }, { tokenPointer: "/a", expiresAtPointer: "/a/b" }, { tokenPointer: "/a/b", expiresAtPointer: "/a" }, { tokenPointer: "/a", expiresAtPointer: "/a" }]) {
      expect(base(bad).ok).toBe(false);
    }
  });

  let dir = "";
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("end to end in our own directory: written, then unchanged, and a newer token at the pointer is refused", async () => {
    dir = await mkdtemp(join(tmpdir(), "oauth-sync-json-file-"));
    const path = join(dir, "app.json");
    await writeFile(path, '{\n  "keep": [1, 2],\n  "auth": {}\n}\n', { mode: 0o640 });
    const loaded = parseConfig(JSON.stringify({ targets: [{ kind: "json-file", path, tokenPointer: "/auth/token", expiresAtPointer: "/auth/expires", expiresAtFormat: "s" }] }), join(dir, "c.json"));
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const target = createTarget(loaded.config.targets[0] as never);
    const run = async () => ({ code: 0, stdout: "", stderr: "", timedOut: false });
    const token = fakeToken();
    const context = { now: Date.now(), state: undefined, run };
    expect((await target.sync(credentials(token), context)).status).toBe("written");
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ keep: [1, 2], auth: { token, expires: EXPIRES / 1000 } });
    expect((await target.sync(credentials(token), context)).status).toBe("unchanged");
    const older = await target.sync(credentials(fakeToken(), EXPIRES - 3_600_000), { ...context, state: { fingerprint: fingerprint(token), expiresAt: EXPIRES } });
    expect(older.status).toBe("refused");
    expect(older.message).toContain("holds a newer token");
    expect(JSON.parse(await readFile(path, "utf8")).auth.token).toBe(token);
  });
});
