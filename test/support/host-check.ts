/**
 * The suite leaves the machine as it found it: test/run.ts reads the host before the suites and again after them.
 *  - every dockerd of this machine (not one inside a container) that ran before still runs, the same process (the
 *    suite has its own daemon: test/bed/docker.sh);
 *  - no new login or group (/etc/passwd, group, shadow, gshadow, subuid, subgid);
 *  - no new mount;
 *  - no systemd-nspawn machine of the test beds (their root under the bed cache) and no bed machine folder left;
 *  - none of the files the product installs or the beds made appears on the host;
 *  - no temp file or directory of ours (named oauth-sync…) is left in the temp directory;
 *  - no process the suite started is left: the runner puts itself in a cgroup of its own, which every child,
 *    detached daemons included, inherits (where no cgroup can be made: the processes whose environment carries
 *    the run's marker, which children given a clean environment do not).
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Proc {
  pid: number;
  start: string;
  comm: string;
  cmdline: string;
}

export interface HostSnapshot {
  dockerds: Proc[];
  accounts: Map<string, Set<string>>;
  mounts: Set<string>;
  machines: Proc[];
  bedMachines: Set<string>;
  paths: Set<string>;
  temps: Set<string>;
}

/** Leftovers in the temp directory named one per line, at most this many. */
const TEMPS_SHOWN = 20;
const ACCOUNT_FILES = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/subuid", "/etc/subgid"];
/** What `install` or a bed puts on a machine: none of it may appear because of the suite. */
const WATCHED_PATHS = [
  "/usr/local/bin/oauth-sync",
  "/etc/oauth-sync",
  "/var/lib/oauth-sync",
  "/etc/systemd/system/oauth-sync.service",
  "/etc/systemd/system/oauth-sync-check.service",
  "/etc/systemd/system/oauth-sync-check.timer",
  "/run/oauth-sync-test",
  "/var/lib/oauth-sync-sshbed",
  "/lib/ld-linux-aarch64.so.1",
];

const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

export function processes(): Proc[] {
  const list: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") continue;
    list.push({ pid: Number(entry), start: fields[19] ?? "", comm, cmdline: (read(`/proc/${entry}/cmdline`) ?? "").replaceAll("\0", " ").trim() });
  }
  return list;
}

function pidNamespace(pid: number | "self"): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

const same = (a: Proc, b: Proc) => a.pid === b.pid && a.start === b.start;
const describe = (p: Proc) => `${p.pid} ${(p.cmdline || p.comm).slice(0, 160)}`;

export function snapshot(bedCache: string): HostSnapshot {
  const all = processes();
  const accounts = new Map<string, Set<string>>();
  for (const file of ACCOUNT_FILES) {
    accounts.set(file, new Set((read(file) ?? "").split("\n").map((line) => line.split(":")[0]!).filter(Boolean)));
  }
  const mounts = new Set(
    (read("/proc/self/mountinfo") ?? "").split("\n").filter(Boolean).map((line) => {
      const [left, right = ""] = line.split(" - ");
      const point = left!.split(" ")[4]!;
      const [fstype, source] = right.split(" ");
      return `${point} (${fstype} ${source})`;
    }),
  );
  const machinesDir = join(bedCache, "systemd-machines");
  return {
    dockerds: all.filter((p) => p.comm === "dockerd" && pidNamespace(p.pid) === pidNamespace("self")),
    accounts,
    mounts,
    machines: all.filter((p) => p.comm === "systemd-nspawn" && p.cmdline.includes(`${machinesDir}/`)),
    bedMachines: new Set(existsSync(machinesDir) ? readdirSync(machinesDir) : []),
    paths: new Set(WATCHED_PATHS.filter((path) => existsSync(path) || isLink(path))),
    temps: new Set(readdirSync(tmpdir()).filter((name) => name.startsWith("oauth-sync"))),
  };
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** What the suite changed, one line each; empty when the host is as it was. */
export function differences(before: HostSnapshot, after: HostSnapshot, leftovers: Proc[]): string[] {
  const found: string[] = [];
  for (const d of before.dockerds) {
    if (!after.dockerds.some((a) => same(a, d))) found.push(`dockerd ${describe(d)} was running before the suite and is not now (stopped or restarted)`);
  }
  for (const [file, names] of after.accounts) {
    for (const name of names) if (!before.accounts.get(file)?.has(name)) found.push(`${file}: ${name} added`);
  }
  for (const mount of after.mounts) if (!before.mounts.has(mount)) found.push(`mount left: ${mount}`);
  for (const m of after.machines) if (!before.machines.some((b) => same(b, m))) found.push(`systemd-nspawn machine left: ${describe(m)}`);
  for (const m of after.bedMachines) if (!before.bedMachines.has(m)) found.push(`test-bed machine folder left: ${m}`);
  for (const path of after.paths) if (!before.paths.has(path)) found.push(`${path} appeared`);
  const temps = [...after.temps].filter((name) => !before.temps.has(name));
  for (const name of temps.slice(0, TEMPS_SHOWN)) found.push(`left in the temp directory: ${join(tmpdir(), name)}`);
  if (temps.length > TEMPS_SHOWN) found.push(`and ${temps.length - TEMPS_SHOWN} more oauth-sync… entries left in ${tmpdir()}`);
  for (const p of leftovers) found.push(`process left: ${describe(p)}`);
  return found;
}

/** The processes the suite started, followed through a cgroup of the runner's own (or its environment marker). */
export interface ProcessTracker {
  /** How processes are followed, for the report. */
  how: string;
  /** The environment variable children inherit (the fallback's marker). */
  marker: Record<string, string>;
  /** Processes of the suite still alive, the runner itself excepted. */
  members(): Proc[];
  /** The runner goes back to its own cgroup; what is left in the suite's is ended, and the cgroup removed. */
  release(): Promise<void>;
}

interface CgroupPlace {
  mount: string;
  /** The runner's cgroup, relative to the mount. */
  path: string;
}

function cgroupPlace(): CgroupPlace | undefined {
  const lines = (read("/proc/self/cgroup") ?? "").split("\n");
  // cgroup v1's pids hierarchy where it is mounted; else the unified (v2) one, alone or beside v1.
  const v1 = lines.map((l) => l.split(":")).find((f) => f[1]?.split(",").includes("pids"));
  if (v1 && existsSync("/sys/fs/cgroup/pids/cgroup.procs")) return { mount: "/sys/fs/cgroup/pids", path: v1[2]! };
  const v2 = lines.map((l) => l.split(":")).find((f) => f[0] === "0" && f[1] === "");
  if (!v2) return undefined;
  for (const mount of ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]) if (existsSync(join(mount, "cgroup.controllers"))) return { mount, path: v2[2]! };
  return undefined;
}

function cgroupMembers(dir: string): number[] {
  const pids = (read(join(dir, "cgroup.procs")) ?? "").split("\n").filter(Boolean).map(Number);
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) pids.push(...cgroupMembers(join(dir, entry.name)));
  return pids;
}

function removeCgroup(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeCgroup(join(dir, entry.name));
  rmdirSync(dir);
}

export function trackProcesses(): ProcessTracker {
  const id = `oauth-sync-test-${process.pid}`;
  const marker = { OAUTH_SYNC_TEST_RUN: id };
  const self = String(process.pid);
  const place = cgroupPlace();
  if (place && process.getuid?.() === 0) {
    const home = join(place.mount, place.path);
    const dir = join(home, id);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "cgroup.procs"), self);
      const all = () => new Map(processes().map((p) => [p.pid, p]));
      return {
        how: `cgroup ${dir}`,
        marker,
        members() {
          const known = all();
          return cgroupMembers(dir).filter((pid) => pid !== process.pid).map((pid) => known.get(pid)).filter((p): p is Proc => p !== undefined);
        },
        async release() {
          writeFileSync(join(home, "cgroup.procs"), self);
          // What is still in there was started by the suite and reported: end it, so the cgroup can go too.
          for (const signal of ["SIGTERM", "SIGKILL"] as const) {
            const left = cgroupMembers(dir);
            for (const pid of left) {
              try {
                process.kill(pid, signal);
              } catch {
                // gone meanwhile
              }
            }
            for (let i = 0; i < 50 && cgroupMembers(dir).length; i++) await Bun.sleep(100);
          }
          try {
            removeCgroup(dir);
          } catch (error) {
            console.error(`could not remove the suite's cgroup ${dir}: ${error}`);
          }
        },
      };
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // never made
      }
    }
  }
  return {
    how: `environment marker OAUTH_SYNC_TEST_RUN=${id} (no cgroup could be made)`,
    marker,
    members: () => processes().filter((p) => p.pid !== process.pid && (read(`/proc/${p.pid}/environ`) ?? "").split("\0").includes(`OAUTH_SYNC_TEST_RUN=${id}`)),
    async release() {},
  };
}
