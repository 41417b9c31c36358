/**
 * Pure: which way an install goes, from the build the manifest recorded to the build running now. Versions are
 * compared as semver; two builds of the same version by their commit's date (a release built from a later commit
 * is newer). A manifest from before builds were recorded (version only) counts as older than a build that has them.
 */
import type { Build } from "../version.ts";

export interface RecordedBuild {
  version: string;
  commit?: string;
  date?: string;
}

export type VersionStep =
  | { kind: "fresh"; line: string }
  | { kind: "same"; line: string }
  | { kind: "upgrade" | "downgrade" | "unknown"; line: string; from: RecordedBuild; to: RecordedBuild };

export function describeBuild(build: RecordedBuild): string {
  const parts = [build.commit ? build.commit.slice(0, 12) : undefined, build.date ? build.date.slice(0, 10) : undefined].filter(Boolean);
  return parts.length ? `${build.version} (${parts.join(", ")})` : `${build.version} (build not recorded)`;
}

/** What the manifest keeps of a build ("unknown" commit or date: left out). */
export function recordOf(build: Build | RecordedBuild): RecordedBuild {
  const known = (value: string | undefined) => (value && value !== "unknown" ? value : undefined);
  const [commit, date] = [known(build.commit), known(build.date)];
  return { version: build.version, ...(commit ? { commit } : {}), ...(date ? { date } : {}) };
}

export function compareBuilds(installed: RecordedBuild | undefined, running: RecordedBuild): VersionStep {
  if (!installed) return { kind: "fresh", line: `installing ${describeBuild(running)}` };
  const versions = compareVersions(installed.version, running.version);
  const order = versions === "equal" ? compareDates(installed, running) : versions;
  const from = describeBuild(installed);
  const to = describeBuild(running);
  if (order === 0) return { kind: "same", line: `${to} is installed already` };
  if (order === undefined) return { kind: "unknown", from: installed, to: running, line: `replacing ${from} → ${to}: cannot tell which is newer` };
  if (order < 0) return { kind: "upgrade", from: installed, to: running, line: `upgrading ${from} → ${to}` };
  return { kind: "downgrade", from: installed, to: running, line: `DOWNGRADE ${from} → ${to}: this build is older than the one installed` };
}

/** Negative: a is older. "equal": the builds decide. Undefined: one of them is not semver ("dev"). */
function compareVersions(a: string, b: string): number | "equal" | undefined {
  const [x, y] = [parseSemver(a), parseSemver(b)];
  if (!x || !y) return a === b ? "equal" : undefined;
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return x.core[i]! - y.core[i]!;
  if (x.pre === y.pre) return "equal";
  if (!x.pre) return 1; // 1.0.0 is newer than 1.0.0-rc.1
  if (!y.pre) return -1;
  return comparePrerelease(x.pre, y.pre);
}

/** SemVer's order of pre-releases: dot-separated identifiers, numeric ones as numbers (rc.9 < rc.10) and below words. */
function comparePrerelease(a: string, b: string): number {
  const [x, y] = [a.split("."), b.split(".")];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i]!, y[i]!];
    if (p === q) continue;
    const [m, n] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (m && n) return Number(p) - Number(q);
    if (m !== n) return m ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

function parseSemver(version: string): { core: number[]; pre?: string } | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(version);
  return match ? { core: [Number(match[1]), Number(match[2]), Number(match[3])], ...(match[4] ? { pre: match[4] } : {}) } : undefined;
}

function compareDates(a: RecordedBuild, b: RecordedBuild): number | undefined {
  if (a.commit && a.commit === b.commit) return 0;
  const [x, y] = [a.date ? Date.parse(a.date) : NaN, b.date ? Date.parse(b.date) : NaN];
  if (Number.isNaN(x) && !a.commit && !Number.isNaN(y)) return -1; // recorded before builds were: older
  if (Number.isNaN(x) || Number.isNaN(y)) return undefined;
  if (x === y) return a.commit === b.commit ? 0 : undefined;
  return x - y;
}
