import { statSync } from "node:fs";
import { readRegularFile } from "../fs/open-file.ts";

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface Accounts {
  passwd: PasswdEntry[];
  byUid(uid: number): PasswdEntry | undefined;
  byName(name: string): PasswdEntry | undefined;
  /** Everyone in a group: listed members and those whose primary group it is. */
  members(gid: number): number[];
  primaryGid(uid: number): number | undefined;
}

/** Pure: /etc/passwd → entries. */
export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split("\n")
    .map((line) => line.split(":"))
    .filter((f) => f.length >= 7 && f[0] && !f[0].startsWith("#") && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

/** Pure: /etc/group → gid and member names. */
export function parseGroup(text: string): Array<{ gid: number; members: string[] }> {
  return text
    .split("\n")
    .map((line) => line.split(":"))
    .filter((f) => f.length >= 4 && f[0] && !f[0].startsWith("#") && /^\d+$/.test(f[2]!))
    .map((f) => ({ gid: Number(f[2]), members: f[3]!.split(",").filter(Boolean) }));
}

/** Pure: both files → the questions the rest of the code asks of them. */
export function accountsFrom(passwdText: string, groupText: string): Accounts {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const byName = (name: string) => passwd.find((e) => e.name === name);
  return {
    passwd,
    byUid: (uid) => passwd.find((e) => e.uid === uid),
    byName,
    members(gid) {
      const listed = groups.filter((g) => g.gid === gid).flatMap((g) => g.members.map((m) => byName(m)?.uid ?? -1));
      const primary = passwd.filter((e) => e.gid === gid).map((e) => e.uid);
      return [...new Set([...listed, ...primary])];
    },
    primaryGid: (uid) => passwd.find((e) => e.uid === uid)?.gid,
  };
}

const identity = (path: string) => {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    return info ? `${info.dev}:${info.ino}:${info.mtimeMs}:${info.ctimeMs}:${info.size}` : "-";
  } catch {
    return "?";
  }
};

/** The last accounts read, by root, with both files' identities then. */
const known = new Map<string, { key: string; accounts: Accounts }>();

/**
 * The host's accounts, as they are now (users come and go while the service runs): read again whenever either file
 * changed (useradd and vipw replace them by rename), else the last read. Every owner check of every pass asks.
 */
export function loadAccounts(root = ""): Accounts {
  const key = `${identity(`${root}/etc/passwd`)}|${identity(`${root}/etc/group`)}`;
  const hit = known.get(root);
  if (hit?.key === key && !key.includes("?")) return hit.accounts;
  const read = (path: string) => {
    const result = readRegularFile(`${root}${path}`, 4 * 1024 * 1024);
    return result.ok ? result.text : "";
  };
  const accounts = accountsFrom(read("/etc/passwd"), read("/etc/group"));
  known.set(root, { key, accounts });
  return accounts;
}
