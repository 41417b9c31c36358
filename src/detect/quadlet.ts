/**
 * Rootless Podman installs run by a user's systemd through Quadlet, found where podman 5's generator finds them (checked
 * with `quadlet -dryrun -user` on podman 5.4): the user's ~/.config/containers/systemd, then /etc/containers/systemd/
 * users/UID and /etc/containers/systemd/users, each with its subdirectories, the first file of a name winning; a unit's
 * drop-ins (`NAME.container.d/*.conf`) applied in name order; `ServiceName=` naming the unit and, with it, the default
 * container (`systemd-%N`).
 */
import { lstat, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { readTextIfRegular } from "../fs/open-file.ts";
import { parsePasswd } from "../users/accounts.ts";
import { cliInContainer, packageRelease, stateFacts, type Found, type OpenClawInstall } from "./openclaw.ts";

/** What a Quadlet says about an OpenClaw gateway. */
export interface Quadlet {
  stateDir?: string;
  container: string;
  image?: string;
  /** The user unit Quadlet generates: `ServiceName=`, else the file's name. */
  unit: string;
  /** How the image runs OpenClaw's CLI, from `Exec=` (`node dist/index.js` in upstream's Quadlet). */
  cli?: string[];
  /** `UserNS=keep-id`: the container runs as the user; without it, as one of the user's subordinate uids. */
  keepId: boolean;
}

/** Where the generator looks for `uid`'s units, in its order (a file name found earlier wins). */
export const quadletDirs = (home: string, uid?: number) => [join(home, ".config/containers/systemd"), ...(uid !== undefined ? [`/etc/containers/systemd/users/${uid}`] : []), "/etc/containers/systemd/users"];

// A user's directories: bounded, so a tree made to be huge cannot stall root's install.
const MAX_DEPTH = 4;
const MAX_ENTRIES = 500;

/** Pure: a Quadlet and its drop-ins (in order) → what it runs. Single keys: the last one wins; `%h` is the home. */
export function parseQuadlet(texts: string | string[], home: string, file: string): Quadlet {
  const values = new Map<string, string>();
  let stateDir: string | undefined;
  for (const text of Array.isArray(texts) ? texts : [texts]) {
    let section = "Container";
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      const header = /^\[(.+)\]$/.exec(line);
      if (header) section = header[1]!;
      if (header || section !== "Container" || !line.includes("=") || /^[#;]/.test(line)) continue;
      const key = line.slice(0, line.indexOf("=")).trim();
      const value = line.slice(line.indexOf("=") + 1).trim().replaceAll("%h", home);
      if (key === "Volume") {
        const [source, target] = value.split(":");
        if (target?.replace(/\/+$/, "") === "/home/node/.openclaw" && source?.startsWith("/")) stateDir = source;
      } else values.set(key, value);
    }
  }
  const unit = values.get("ServiceName") ?? basename(file, ".container");
  const exec = values.get("Exec");
  const cli = exec ? cliInContainer(exec, undefined) : undefined;
  return {
    stateDir,
    container: values.get("ContainerName") ?? `systemd-${unit}`,
    image: values.get("Image"),
    unit: `${unit}.service`,
    ...(cli ? { cli } : {}),
    keepId: /^keep-id(:|$)/.test(values.get("UserNS") ?? ""),
  };
}

/** `.container` files under `dir` (links not followed), with their drop-in files; bounded in depth and entries. */
async function containerFiles(root: string, dir: string, depth = 0, skip = new Set<string>()): Promise<Array<{ path: string; dropIns: string[] }>> {
  const names = (await readdir(join(root, dir)).catch(() => [] as string[])).sort().slice(0, MAX_ENTRIES);
  const found: Array<{ path: string; dropIns: string[] }> = [];
  for (const name of names) {
    const path = join(dir, name);
    const info = await lstat(join(root, path)).catch(() => undefined);
    if (!info || info.isSymbolicLink()) continue;
    if (info.isDirectory() && depth < MAX_DEPTH && !name.endsWith(".d") && !skip.has(path)) found.push(...(await containerFiles(root, path, depth + 1)));
    if (!info.isFile() || !name.endsWith(".container")) continue;
    const dropDir = `${path}.d`;
    const dropIns = (await readdir(join(root, dropDir)).catch(() => [] as string[])).filter((n) => n.endsWith(".conf")).sort().slice(0, MAX_ENTRIES).map((n) => join(dropDir, n));
    found.push({ path, dropIns });
  }
  return found;
}

/** A home's Quadlets in the generator's order (a file name found first wins), each parsed with its drop-ins. */
async function userQuadlets(root: string, home: string, uid: number | undefined): Promise<Array<{ path: string; dropIns: string[]; quadlet: Quadlet }>> {
  const seen = new Set<string>();
  const found: Array<{ path: string; dropIns: string[]; quadlet: Quadlet }> = [];
  for (const dir of quadletDirs(home, uid)) {
    // users/ holds other uids' dirs too: only this user's (listed on its own above) is theirs.
    const numbered = dir === "/etc/containers/systemd/users" ? (await readdir(join(root, dir)).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n)).map((n) => join(dir, n)) : [];
    for (const { path, dropIns } of await containerFiles(root, dir, 0, new Set(numbered))) {
      if (seen.has(basename(path))) continue;
      seen.add(basename(path));
      const texts = [path, ...dropIns].map((p) => readTextIfRegular(join(root, p))); // a user's files: links and FIFOs skipped
      if (texts[0] === undefined) continue;
      found.push({ path, dropIns, quadlet: parseQuadlet(texts.filter((t): t is string => t !== undefined), home, basename(path)) });
    }
  }
  return found;
}

/** The user of a home (its /etc/passwd entry, else /home/NAME's NAME) and uid. */
function homeUser(root: string, home: string): { user?: string; uid?: number } {
  const entry = parsePasswd(readTextIfRegular(join(root, "/etc/passwd")) ?? "").find((e) => e.home === home);
  return entry ? { user: entry.name, uid: entry.uid } : { user: /^\/home\/([^/]+)$/.exec(home)?.[1] };
}

/** A user's OpenClaw Quadlets: every unit that mounts a state dir at /home/node/.openclaw → user unit of that user. */
export async function quadletInstalls(root: string, home: string): Promise<Found<OpenClawInstall>[]> {
  const { user, uid } = homeUser(root, home);
  if (uid === 0 || home === "/root") return []; // root's Quadlets are system units (rootful Podman), not a user's
  const found: Found<OpenClawInstall>[] = [];
  for (const { path, dropIns, quadlet } of await userQuadlets(root, home, uid)) {
    if (!quadlet.stateDir) continue;
    const missing = (await stat(join(root, quadlet.stateDir)).catch(() => undefined)) ? [] : [quadlet.stateDir];
    const imageRelease = /:v?(\d{4}\.\d+\.\d+)/.exec(quadlet.image ?? "")?.[1];
    const release = imageRelease ?? (await packageRelease(root, quadlet.stateDir));
    const from = dropIns.length ? `${path} (+ ${dropIns.map((d) => basename(d)).join(", ")})` : path;
    found.push({
      value: {
        kind: "podman",
        stateDir: quadlet.stateDir,
        release,
        ...(user ? { owner: { user, home, ...(uid !== undefined ? { uid } : {}) } } : {}),
        container: quadlet.container,
        image: quadlet.image,
        ...(quadlet.cli ? { containerCli: quadlet.cli } : {}),
        unit: { name: quadlet.unit, user: user ?? basename(home), source: `${from} (Quadlet → user unit ${quadlet.unit} of ${user ?? home})` },
        ...(await stateFacts(root, quadlet.stateDir)),
        missing,
      },
      source:
        `${from}: Podman Quadlet, container ${quadlet.container}, state ${quadlet.stateDir}${missing.length ? " (MISSING)" : ""}${release ? `, release ${release}` : ""}` +
        (quadlet.keepId ? "" : `; without UserNS=keep-id, so the container's files belong to ${user ?? "the user"}'s subordinate uids (/etc/subuid) and are written as those`),
    });
  }
  return found;
}

/** The user units a home's OpenClaw Quadlets generate (for the detection report). */
export async function quadletUnits(root: string, home: string): Promise<Array<{ user?: string; name: string; path: string }>> {
  const { user, uid } = homeUser(root, home);
  if (uid === 0 || home === "/root") return [];
  return (await userQuadlets(root, home, uid)).filter((q) => q.quadlet.stateDir || basename(q.path).startsWith("openclaw")).map((q) => ({ user, name: q.quadlet.unit, path: q.path }));
}
