import type { DirStep } from "./walk.ts";

/** Who acts in a place: root, or the one non-root user who owns it (uid, and the gid new files get). */
export type Actor = { uid: number; gid: number };

export type PlaceDecision = { ok: true; actor: Actor } | { ok: false; message: string };

/** Members of a group besides those who have it as their primary group (from /etc/group and /etc/passwd). */
export type GroupMembers = (gid: number) => number[];

const sticky = (s: DirStep) => (s.mode & 0o1000) !== 0;

/**
 * Pure: whose rights a write in the directory `chain.at(-1)` must use, after OpenSSH's StrictModes and systemd's
 * safe path chasing. The place belongs to the owner of the directory that holds the file. Every directory above it
 * must be root's or that same owner's, and writable by nobody else: a group counts as its owner only where the
 * owner is its one member; a world-writable directory only where it is sticky (/tmp) and the next one down is root's
 * or the owner's. Anything else could be swapped under us by a third party: refused with the command that fixes it.
 */
export function decidePlace(chain: DirStep[], members: GroupMembers, primaryGid: (uid: number) => number | undefined): PlaceDecision {
  const place = chain.at(-1);
  if (!place) return { ok: false, message: "no directory" };
  const owner = place.uid;
  const trusted = (uid: number) => uid === 0 || uid === owner;
  for (let i = 0; i < chain.length; i++) {
    const dir = chain[i]!;
    const below = chain[i + 1];
    if (!trusted(dir.uid)) {
      return refuse(`${dir.path} belongs to uid ${dir.uid}, but ${place.path} belongs to ${who(owner)}`, `chown ${owner} ${dir.path}`);
    }
    if (dir.mode & 0o002) {
      const safeSticky = below !== undefined && sticky(dir) && trusted(below.uid);
      if (!safeSticky) return refuse(`${dir.path} is writable by every user`, `chmod o-w ${dir.path}`);
    }
    if (dir.mode & 0o020 && !groupIsOwner(dir.gid, owner, members, primaryGid)) {
      const safeSticky = below !== undefined && sticky(dir) && trusted(below.uid);
      if (!safeSticky) return refuse(`${dir.path} is writable by group ${dir.gid}, which has other members`, `chmod g-w ${dir.path}`);
    }
  }
  const gid = owner === 0 ? 0 : (primaryGid(owner) ?? place.gid);
  return { ok: true, actor: { uid: owner, gid } };
}

function groupIsOwner(gid: number, owner: number, members: GroupMembers, primaryGid: (uid: number) => number | undefined): boolean {
  if (gid === 0) return owner === 0 && members(0).every((uid) => uid === 0);
  const others = members(gid).filter((uid) => uid !== owner);
  if (others.length > 0) return false;
  // An owner-less group (a container's gid) with a non-root owner: no one else is in it on this host.
  return owner !== 0 || primaryGid(owner) === gid;
}

const who = (uid: number) => (uid === 0 ? "root" : `uid ${uid}`);

function refuse(problem: string, fix: string): PlaceDecision {
  return { ok: false, message: `${problem}: a third party could redirect what oauth-sync writes there; fix: \`${fix}\`` };
}
