import { fileIdentity } from "../fs/identity.ts";
import { readRegularFile } from "../fs/open-file.ts";
import { parseSubordinate, rangeHolder, type RangeHolder, type SubRange } from "./subordinate.ts";

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
  /** Who holds `uid` as a subordinate id (/etc/subuid): a rootless container's uid on the host. */
  subuidHolder(uid: number): RangeHolder | undefined;
  /** The same for a gid (/etc/subgid). */
  subgidHolder(gid: number): RangeHolder | undefined;
  /** Every home directory named in /etc/passwd. */
  homes: string[];
  /** Everyone in the group of that name (listed members and those whose primary group it is); none if it does not exist. */
  membersOf(groupName: string): number[];
  /** The groups an account is listed in (/etc/group), as its login would have them: none for a uid without an account. */
  supplementaryGids(uid: number): number[];
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
export function parseGroup(text: string): Array<{ name: string; gid: number; members: string[] }> {
  return text
    .split("\n")
    .map((line) => line.split(":"))
    .filter((f) => f.length >= 4 && f[0] && !f[0].startsWith("#") && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(",").filter(Boolean) }));
}

export interface AccountFiles {
  passwd: string;
  group: string;
  subuid?: string;
  subgid?: string;
}

/** Pure: the files → the questions the rest of the code asks of them. */
export function accountsFrom(files: AccountFiles): Accounts {
  const passwd = parsePasswd(files.passwd);
  const groups = parseGroup(files.group);
  const subuids: SubRange[] = parseSubordinate(files.subuid ?? "");
  const subgids: SubRange[] = parseSubordinate(files.subgid ?? "");
  const byName = (name: string) => passwd.find((e) => e.name === name);
  const byUid = (uid: number) => passwd.find((e) => e.uid === uid);
  const members = (gid: number) => {
    const listed = groups.filter((g) => g.gid === gid).flatMap((g) => g.members.map((m) => byName(m)?.uid ?? -1));
    const primary = passwd.filter((e) => e.gid === gid).map((e) => e.uid);
    return [...new Set([...listed, ...primary])];
  };
  return {
    passwd,
    byUid,
    byName,
    members,
    membersOf: (groupName) => [...new Set(groups.filter((g) => g.name === groupName).flatMap((g) => members(g.gid)))],
    primaryGid: (uid) => byUid(uid)?.gid,
    supplementaryGids: (uid) => {
      const name = byUid(uid)?.name;
      return name === undefined ? [] : [...new Set(groups.filter((g) => g.members.includes(name)).map((g) => g.gid))].sort((a, b) => a - b);
    },
    // An id that is also an account (or a group) of its own is not the range holder's alone.
    subuidHolder: (uid) => alsoHeldBy(rangeHolder(subuids, uid, passwd), byUid(uid)?.name),
    subgidHolder: (gid) => alsoHeldBy(rangeHolder(subgids, gid, passwd), groups.find((g) => g.gid === gid)?.name),
    homes: [...new Set(passwd.map((e) => e.home).filter((h) => h.startsWith("/")))],
  };
}

function alsoHeldBy(holder: RangeHolder | undefined, account: string | undefined): RangeHolder | undefined {
  if (!holder || account === undefined) return holder;
  if (holder.kind === "user" && holder.name === account) return holder;
  const names = holder.kind === "shared" ? holder.names : [holder.kind === "user" ? (holder.name ?? `uid ${holder.uid}`) : holder.name];
  return { kind: "shared", names: [...new Set([...names, account])].sort() };
}

const ACCOUNT_FILES = ["/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid"] as const;

/** useradd, usermod and vipw replace these files by rename: a new identity. */
const identity = (path: string) => fileIdentity(path, { follow: true }) ?? "-";

/** The last accounts read, with the four files' identities then. */
const known = new Map<string, { key: string; accounts: Accounts }>();

/**
 * The host's accounts as they are now (users and ranges come and go while the service runs): read again whenever
 * one of the files changed, else the last read; every owner check of every pass asks. Each file is read bounded and
 * without following a link; an unreadable one counts as empty (no ranges: nobody's subordinates).
 */
export function loadAccounts(root = ""): Accounts {
  const key = ACCOUNT_FILES.map((f) => identity(`${root}${f}`)).join("|");
  const hit = known.get(root);
  if (hit?.key === key && !key.includes("?")) return hit.accounts;
  const read = (path: string) => {
    const result = readRegularFile(`${root}${path}`, 4 * 1024 * 1024);
    return result.ok ? result.text : "";
  };
  const accounts = accountsFrom({ passwd: read("/etc/passwd"), group: read("/etc/group"), subuid: read("/etc/subuid"), subgid: read("/etc/subgid") });
  known.set(root, { key, accounts });
  return accounts;
}
