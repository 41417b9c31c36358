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

/** The host's accounts, read fresh each time (a few KB; users come and go while the service runs). */
export function loadAccounts(root = ""): Accounts {
  const read = (path: string) => {
    const result = readRegularFile(`${root}${path}`, 4 * 1024 * 1024);
    return result.ok ? result.text : "";
  };
  return accountsFrom(read("/etc/passwd"), read("/etc/group"));
}
