import { posix } from "node:path";
import type { Accounts } from "../users/accounts.ts";
import { DOCKER_REMAP_USER, type RangeHolder } from "../users/subordinate.ts";
import type { DirStep } from "./walk.ts";

/** Who acts in a place: root, or the one non-root user who owns it (uid, and the gid new files get). */
export type Actor = { uid: number; gid: number };

export type PlaceDecision = { ok: true; actor: Actor } | { ok: false; message: string };

/** What a decision needs to know of the host's accounts (src/users/accounts.ts reads them). */
export type TrustFacts = Pick<Accounts, "members" | "primaryGid" | "subuidHolder" | "subgidHolder" | "homes" | "byUid" | "membersOf">;

/** The group whose members may command the Docker daemon (its socket's group): root's equals. */
export const DOCKER_GROUP = "docker";

const sticky = (s: DirStep) => (s.mode & 0o1000) !== 0;

/**
 * Pure: the login a uid acts for. A uid in one account's /etc/subuid range (a rootless container's user: 166535 is
 * the container's 1000 for a user whose range starts at 165536) is that account's, as its own uid is: the account can
 * become it (`podman unshare`) and its containers run as it. Every other uid stands for itself, including the
 * ranges of root and of Docker's userns-remap (every container of the daemon shares them: no login's).
 */
export function principalOf(uid: number, facts: Pick<TrustFacts, "subuidHolder">): number {
  if (uid === 0) return 0;
  const holder = facts.subuidHolder(uid);
  return holder?.kind === "user" ? holder.uid : uid;
}

/**
 * Pure: whose rights a write in the directory `chain.at(-1)` must use, after OpenSSH's StrictModes and systemd's
 * safe path chasing. The place belongs to the owner of the directory that holds the file, and it is written as
 * that owner (a rootless container's subordinate uid included, so the container can still read what it owns). Every
 * directory above it must be root's or the same login's (the owner, or the account whose subordinate range holds
 * the owner, or another uid of that range), and writable by nobody else: a group counts as the owner's where the
 * owner's login is its one member or the group is in that login's /etc/subgid range; a world-writable directory
 * only where it is sticky (/tmp) and the next one down is trusted. A container's uid under Docker's userns-remap is no
 * login's, but those who command Docker count as its owners (`remapPeers`). Anything else could be swapped under us
 * by a third party: refused with the fix, which never changes the owner of a home directory or of one above a home.
 */
export function decidePlace(chain: DirStep[], facts: TrustFacts): PlaceDecision {
  const place = chain.at(-1);
  if (!place) return { ok: false, message: "no directory" };
  const owner = place.uid;
  const login = principalOf(owner, facts);
  const peers = remapPeers(owner, facts);
  const trusted = (uid: number) => uid === 0 || principalOf(uid, facts) === login || peers.includes(principalOf(uid, facts));
  for (let i = 0; i < chain.length; i++) {
    const dir = chain[i]!;
    const below = chain[i + 1];
    if (!trusted(dir.uid)) return refuseOwner(chain, i, facts);
    if (dir.mode & 0o002) {
      const safeSticky = below !== undefined && sticky(dir) && trusted(below.uid);
      if (!safeSticky) return refuse(`${dir.path} is writable by every user`, `\`chmod o-w ${dir.path}\``);
    }
    if (dir.mode & 0o020 && !groupIsOwner(dir.gid, owner, peers, facts)) {
      const safeSticky = below !== undefined && sticky(dir) && trusted(below.uid);
      if (!safeSticky) return refuse(`${dir.path} is writable by group ${dir.gid}, which has other members`, `\`chmod g-w ${dir.path}\``);
    }
  }
  const gid = owner === 0 ? 0 : (facts.primaryGid(owner) ?? place.gid);
  return { ok: true, actor: { uid: owner, gid } };
}

/**
 * Pure: who else may hold a place owned by a container's uid under Docker's userns-remap (dockremap's range): those
 * who may command the daemon (the docker group), who can read and change any of its containers' files anyway. A state
 * dir in a docker user's home (`scripts/docker/setup.sh` chowns ~/.openclaw to the container's 1000, which the remap
 * makes 232072 on the host) is theirs; the same dir under a user who cannot use Docker is refused.
 */
export function remapPeers(owner: number, facts: Pick<TrustFacts, "subuidHolder" | "membersOf">): number[] {
  const holder = owner === 0 ? undefined : facts.subuidHolder(owner);
  return holder?.kind === "daemon" && holder.name === DOCKER_REMAP_USER ? facts.membersOf(DOCKER_GROUP).filter((uid) => uid >= 0) : [];
}

function groupIsOwner(gid: number, owner: number, peers: number[], facts: TrustFacts): boolean {
  if (gid === 0) return owner === 0 && facts.members(0).every((uid) => uid === 0);
  const login = principalOf(owner, facts);
  const holder = facts.subgidHolder(gid);
  if (holder) {
    // A subordinate gid: the group of some account's (or the engine's) containers, whoever the members in /etc/group.
    if (holder.kind === "user") return holder.uid === login;
    const ownerHolder = facts.subuidHolder(owner);
    return holder.kind === "daemon" && ownerHolder?.kind === "daemon" && ownerHolder.name === holder.name;
  }
  const others = facts.members(gid).filter((uid) => principalOf(uid, facts) !== login && !peers.includes(uid));
  if (others.length > 0) return false;
  // An owner-less group (a container's gid) with a non-root owner: no one else is in it on this host.
  return owner !== 0 || facts.primaryGid(owner) === gid;
}

/** Pure: `dir` is a home directory named in /etc/passwd, or a directory above one (`/`, `/home`, `/var/lib`…). */
export function isHomeOrAbove(dir: string, homes: string[]): boolean {
  const d = normal(dir);
  return d === "/" || homes.some((home) => {
    const h = normal(home);
    return h === d || h.startsWith(`${d}/`);
  });
}

const normal = (path: string) => {
  const n = posix.normalize(path);
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
};

/** Pure: a uid in words, saying whose container it is where /etc/subuid says so. */
export function describeUid(uid: number, facts: Pick<TrustFacts, "byUid" | "subuidHolder">): string {
  if (uid === 0) return "root";
  const entry = facts.byUid(uid);
  if (entry) return `${entry.name} (uid ${uid})`;
  const holder = facts.subuidHolder(uid);
  return holder ? `uid ${uid} (${holderWords(holder, facts)})` : `uid ${uid}`;
}

function holderWords(holder: RangeHolder, facts: Pick<TrustFacts, "byUid">): string {
  switch (holder.kind) {
    case "user":
      return `a subordinate uid of ${holder.name ?? facts.byUid(holder.uid)?.name ?? `uid ${holder.uid}`} in /etc/subuid: a user of its rootless containers`;
    case "daemon":
      return holder.name === "root" ? "root's subordinate range in /etc/subuid: a user of rootful containers" : `${holder.name}'s range in /etc/subuid: a container's user under Docker's userns-remap`;
    case "unknown":
      return `in the /etc/subuid range of ${holder.name}, who is not in /etc/passwd`;
    case "shared":
      return `in the /etc/subuid ranges of ${holder.names.join(" and ")} at once`;
  }
}

const nameOf = (uid: number, facts: Pick<TrustFacts, "byUid">) => (uid === 0 ? "root" : (facts.byUid(uid)?.name ?? String(uid)));

/**
 * The refusal for a directory on the way that belongs to someone the place's owner cannot vouch for. The fix moves or
 * re-owns the state below that directory, or the directory itself where it is no home (nor above one): changing the
 * owner of a home would hand a user's whole home to someone else.
 */
function refuseOwner(chain: DirStep[], index: number, facts: TrustFacts): PlaceDecision {
  const dir = chain[index]!;
  const place = chain.at(-1)!;
  const top = chain[index + 1]!.path; // the place is always trusted, so something lies below `dir`
  const owner = place.uid;
  const login = principalOf(owner, facts);
  const problem = `${dir.path} belongs to ${describeUid(dir.uid, facts)}, but ${place.path} belongs to ${describeUid(owner, facts)}`;
  const holder = owner === 0 ? undefined : facts.subuidHolder(owner);
  const dirLogin = principalOf(dir.uid, facts);
  if (holder?.kind === "shared") {
    return refuse(problem, `give each account its own range in /etc/subuid (\`usermod --del-subuids\`/\`--add-subuids\`), then uid ${owner} is one account's`);
  }
  if (!isHomeOrAbove(dir.path, facts.homes)) {
    // Not a home: the directory itself can go to the place's login (or to root, for a container's uid no login holds).
    const to = login !== owner || facts.byUid(owner) || owner === 0 ? nameOf(login, facts) : "root";
    return refuse(problem, `\`chown ${to} ${dir.path}\``);
  }
  if (!facts.homes.some((home) => normal(home) === normal(dir.path))) {
    return refuse(problem, `${dir.path} lies above home directories and should be root's alone: find out why it belongs to ${describeUid(dir.uid, facts)} before anything is written below it`);
  }
  const dirName = nameOf(dirLogin, facts);
  const topIsHome = isHomeOrAbove(top, facts.homes); // another account's home inside this one: never re-owned
  if (holder?.kind === "unknown") {
    // newuidmap accepts a range named by uid: an account only NSS knows (LDAP) can be named so, and is then found.
    return refuse(problem, `if ${holder.name} is an account of this host that /etc/passwd does not list, name its ranges by uid in /etc/subuid and /etc/subgid (\`UID:START:COUNT\`); otherwise move ${top} out of ${dir.path} to a directory only root can change`);
  }
  if (holder?.kind === "daemon") {
    return refuse(problem, `move ${top} out of ${dir.path} to a directory only root can change (for example /srv/openclaw) and bind-mount it from there (OPENCLAW_CONFIG_DIR)`);
  }
  if (owner === 0) {
    const give = topIsHome ? "" : `, or, if it is ${dirName}'s, \`chown -R ${dirName} ${top}\``;
    return refuse(problem, `move ${top} to a directory only root can change (for example /srv/openclaw)${give}`);
  }
  if (login !== owner || facts.byUid(owner)) {
    const whose = nameOf(login, facts);
    return refuse(problem, `move ${top} out of ${dir.path} into a directory that only ${whose} or root can change (for example under ${whose}'s home)`);
  }
  // A container's uid that no login holds (a rootful container, or a rootless one from a range /etc/subuid no longer has).
  const podman = topIsHome ? "" : `; if it is ${dirName}'s rootless Podman container, run it with UserNS=keep-id and give the files back with \`podman unshare chown -R 0:0 ${top}\` (as ${dirName})`;
  return refuse(problem, `move ${top} out of ${dir.path} to a directory only root can change (for example /srv/openclaw) and mount it from there${podman}`);
}

function refuse(problem: string, fix: string): PlaceDecision {
  return { ok: false, message: `${problem}: a third party could redirect what oauth-sync writes there; fix: ${fix}` };
}
