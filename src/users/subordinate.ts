/**
 * /etc/subuid and /etc/subgid: the ids each account may map into its own user namespaces (rootless Podman, rootless
 * Docker) and the ranges Docker's userns-remap uses for every container of the daemon (`dockremap`). A file owned on
 * the host by 166535 is, under rootless Podman, the container's uid 1000 of the user whose range holds 166535.
 */

/** One line: `owner:start:count` (owner a name or a numeric uid, as shadow's newuidmap accepts both). */
export interface SubRange {
  owner: string;
  start: number;
  count: number;
}

/** What ranges need of an account (/etc/passwd's entries have it): its name and uid, as a range names its owner by either. */
export interface Account {
  name: string;
  uid: number;
}

/** Docker's default user for userns-remap (`"userns-remap": "default"` creates it): its ranges are the daemon's. */
export const DOCKER_REMAP_USER = "dockremap";

const MAX_ID = 2 ** 32 - 1; // (uid_t)-1 is never a valid id
const MAX_LINES = 100_000;

/** Pure: the file → its valid ranges. Comments, blank and malformed lines (a bad number, count 0, past 2^32-1) are skipped. */
export function parseSubordinate(text: string): SubRange[] {
  const ranges: SubRange[] = [];
  for (const line of text.split("\n", MAX_LINES)) {
    const fields = line.trim().split(":");
    if (fields.length !== 3 || !fields[0] || fields[0].startsWith("#")) continue;
    if (!/^\d{1,10}$/.test(fields[1]!) || !/^\d{1,10}$/.test(fields[2]!)) continue;
    const start = Number(fields[1]);
    const count = Number(fields[2]);
    if (count < 1 || start + count > MAX_ID) continue;
    ranges.push({ owner: fields[0], start, count });
  }
  return ranges;
}

/**
 * Who a subordinate id belongs to:
 * - `user`: one login account (not root, not Docker's remap user) holds it: its rootless containers' id, so it is
 *   that account's as much as its own uid is (it can act as it with `podman unshare`);
 * - `daemon`: root's or `dockremap`'s range: ids the container engine gives every container of the daemon, no login's;
 * - `unknown`: the range is named for an account that /etc/passwd does not list (NSS-only or deleted): not trusted;
 * - `shared`: the ranges of two accounts overlap there: either could act as it, so it is neither's alone.
 */
export type RangeHolder =
  | { kind: "user"; uid: number; name?: string }
  | { kind: "daemon"; name: string }
  | { kind: "unknown"; name: string }
  | { kind: "shared"; names: string[] };

/** Pure: the holder of `id` in `ranges`, or undefined where no range holds it. */
export function rangeHolder(ranges: SubRange[], id: number, passwd: readonly Account[]): RangeHolder | undefined {
  const owners = [...new Set(ranges.filter((r) => id >= r.start && id < r.start + r.count).map((r) => canonical(r.owner, passwd)))];
  if (owners.length === 0) return undefined;
  if (owners.length > 1) return { kind: "shared", names: owners.map((o) => nameOf(o, passwd)).sort() };
  const owner = owners[0]!;
  const entry = /^\d+$/.test(owner) ? passwd.find((e) => e.uid === Number(owner)) : undefined;
  const uid = /^\d+$/.test(owner) ? Number(owner) : undefined;
  if (owner === DOCKER_REMAP_USER) return { kind: "daemon", name: owner };
  if (uid === undefined) return { kind: "unknown", name: owner };
  if (uid === 0 || entry?.name === DOCKER_REMAP_USER) return { kind: "daemon", name: entry?.name ?? "root" };
  return { kind: "user", uid, ...(entry ? { name: entry.name } : {}) };
}

/** A range's owner as one key: the uid (as text) where /etc/passwd knows the name or the owner is numeric, else the name. */
function canonical(owner: string, passwd: readonly Account[]): string {
  if (/^\d+$/.test(owner)) return String(Number(owner));
  const entry = passwd.find((e) => e.name === owner);
  return entry ? String(entry.uid) : owner;
}

function nameOf(key: string, passwd: readonly Account[]): string {
  return /^\d+$/.test(key) ? (passwd.find((e) => e.uid === Number(key))?.name ?? `uid ${key}`) : key;
}
