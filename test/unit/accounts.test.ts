/** The host's account files as src/users/accounts.ts reads them: bounded, no FIFO can stall it, ranges included. */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { loadAccounts } from "../../src/users/accounts.ts";

const root = mkdtempSync(join(tmpdir(), "oauth-sync-accounts-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function etc(files: Record<string, string>) {
  rmSync(join(root, "etc"), { recursive: true, force: true });
  mkdirSync(join(root, "etc"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, "etc", name), text);
}

const PASSWD = "root:x:0:0:root:/root:/bin/bash\npoduser:x:1000:1000::/home/poduser:/bin/bash\n";

test("ranges from /etc/subuid and /etc/subgid; homes from /etc/passwd", () => {
  etc({ passwd: PASSWD, group: "root:x:0:\ndocker:x:996:poduser\n", subuid: "poduser:165536:65536\n", subgid: "poduser:165536:65536\n" });
  const accounts = loadAccounts(root);
  expect(accounts.subuidHolder(166535)).toEqual({ kind: "user", uid: 1000, name: "poduser" });
  expect(accounts.subgidHolder(166535)).toEqual({ kind: "user", uid: 1000, name: "poduser" });
  expect(accounts.subuidHolder(165535)).toBeUndefined();
  expect(accounts.homes).toEqual(["/root", "/home/poduser"]);
  expect(accounts.membersOf("docker")).toEqual([1000]);
  expect(accounts.membersOf("nosuch")).toEqual([]);
});

test("missing range files mean no ranges; a FIFO or an oversized file is skipped, not waited on", () => {
  etc({ passwd: PASSWD, group: "root:x:0:\n" });
  expect(loadAccounts(root).subuidHolder(166535)).toBeUndefined();
  expect(spawnSync("mkfifo", [join(root, "etc/subuid")]).status).toBe(0);
  writeFileSync(join(root, "etc/subgid"), `poduser:165536:65536\n${"#".repeat(5 * 1024 * 1024)}\n`);
  const accounts = loadAccounts(root); // a FIFO opened for reading would block here: the test would time out
  expect(accounts.subuidHolder(166535)).toBeUndefined();
  expect(accounts.subgidHolder(166535)).toBeUndefined();
  expect(accounts.byName("poduser")?.uid).toBe(1000);
});

test("read again when a file changes (usermod --add-subuids replaces /etc/subuid), else the last read is kept", () => {
  etc({ passwd: PASSWD, group: "root:x:0:\n", subuid: "", subgid: "" });
  const first = loadAccounts(root);
  expect(loadAccounts(root)).toBe(first);
  expect(first.subuidHolder(166535)).toBeUndefined();
  writeFileSync(join(root, "etc/subuid.new"), "poduser:165536:65536\n");
  renameSync(join(root, "etc/subuid.new"), join(root, "etc/subuid"));
  expect(loadAccounts(root).subuidHolder(166535)).toEqual({ kind: "user", uid: 1000, name: "poduser" });
});
