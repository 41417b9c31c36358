/**
 * The resident cost, side by side in one run:
 *   seed      the seed's pipeline: inotifywait -m | while read; cp + mv (Debian's inotify-tools)
 *   floor     the durable floor (bench/support/floor-watcher.ts, as bench/latency.ts runs it): a compiled Bun binary
 *             with @parcel/watcher that maps the token into the target (temp file, fsync, rename, directory fsync)
 *   floor+    the same binary with the runtime settings `watch` gives itself (src/process/service-runtime.ts: no JIT,
 *             no GC timer): the floor for those settings, and the anchor of the differences printed last
 *   oauth-sync `watch` from dist/oauth-sync, one env-file target, default settings
 *   oauth-sync (uid 1000)  the same with the target in a directory uid 1000 owns under root's 0700 one (OpenClaw's
 *             Hetzner layout): written by the worker acting as uid 1000, which stays between passes (src/privilege/);
 *             its CPU, wake-ups and RSS count as the service's children (needs root)
 * For each: CPU per idle hour and wake-ups per minute (voluntary context switches of every thread of the process and
 * its children, from /proc/PID/task/TID/{schedstat,status}), RSS idle and after 1 000 and 10 000 rotations (temp file +
 * rename), and p50/p99 from the rename to the target holding the token.
 *   bun bench/idle.ts [idleSeconds=120] [rotations=10000] [--private-mounts]
 * Goals (issues 12 and 20, printed, not asserted): CPU per idle hour within 0.1 s of `floor+`; RSS within 5 MB of
 * `floor`, growing < 2 MB over 10 000 rotations; p50 within 5 ms of `floor`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeToken, rotate, waitForToken } from "../src/demo/sandbox.ts";
import { BINARY } from "../test/support/binary.ts";
import { SERVICE_ENV } from "../src/process/service-runtime.ts";
import { buildFloor } from "./support/build-floor.ts";
import { percentile } from "./support/percentile.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const idleSeconds = Number(args[0] ?? 120);
const rotations = Number(args[1] ?? 10_000);
/**
 * --private-mounts: oauth-sync runs in a mount namespace of its own (unshare, same pid), so that the mounts other
 * work on a shared machine makes (containers, test beds) do not wake its findmnt: what is measured is then the
 * service's own idle cost. Without it, every mount change on the host is a findmnt line and a wake-up, as in life.
 */
const privateMounts = process.argv.includes("--private-mounts");
const HOUR = 3_600_000;
const root = await mkdtemp(join(tmpdir(), "oauth-sync-idle-"));

interface Subject {
  name: string;
  credentials: string;
  target: string;
  child?: ChildProcess;
  figures: Record<string, string>;
  cpuPerHour?: number;
  p50?: number;
  p99?: number;
}

async function layout(name: string): Promise<Subject> {
  const dir = join(root, name);
  await mkdir(join(dir, "claude"), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, "openclaw"), { recursive: true, mode: 0o700 });
  const subject = { name, credentials: join(dir, "claude/.credentials.json"), target: join(dir, "openclaw/.env"), figures: {} };
  await writeFile(subject.target, "ANTHROPIC_OAUTH_TOKEN=\n", { mode: 0o600 });
  await rotate(subject, fakeToken(), Date.now() + 8 * HOUR);
  return subject;
}

const SEED_SCRIPT = `
cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
inotifywait -m -q -e moved_to,close_write --format %f "$(dirname "$1")" | while read -r f; do
  [ "$f" = "$(basename "$1")" ] && cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
done`;

async function startAll(): Promise<Subject[]> {
  if (!Bun.which("inotifywait")) throw new Error("inotifywait is missing: apt-get install inotify-tools");
  const seed = await layout("seed");
  seed.child = spawn("sh", ["-c", SEED_SCRIPT, "seed", seed.credentials, seed.target], { stdio: "ignore" });
  const floorBinary = buildFloor(root);
  // Only the .env target: the other two are "-".
  const floor = await layout("floor");
  floor.child = spawn(floorBinary, [floor.credentials, "-", "-", floor.target], { stdio: "ignore" });
  const lean = await layout("floor+");
  lean.child = spawn(floorBinary, [lean.credentials, "-", "-", lean.target], { stdio: "ignore", env: { ...process.env, ...SERVICE_ENV } });
  const ours = await layout("oauth-sync");
  const config = join(root, "oauth-sync/config.json");
  await writeFile(config, JSON.stringify({ credentials: ours.credentials, stateDir: join(root, "oauth-sync/state"), targets: [{ kind: "env-file", path: ours.target }] }));
  const command = privateMounts ? ["unshare", "--mount", "--propagation", "private", BINARY] : [BINARY];
  ours.child = spawn(command[0]!, [...command.slice(1), "watch", "--config", config, "--quiet"], { stdio: "ignore", env: { PATH: process.env.PATH, HOME: join(root, "oauth-sync") } });
  if (process.getuid?.() !== 0) return [seed, floor, lean, ours];
  const owned = await layout("oauth-sync (uid 1000)");
  const ownedDir = join(root, "oauth-sync (uid 1000)");
  spawnSync("chown", ["-R", "1000:1000", join(ownedDir, "openclaw")]);
  const ownedConfig = join(ownedDir, "config.json");
  await writeFile(ownedConfig, JSON.stringify({ credentials: owned.credentials, stateDir: join(ownedDir, "state"), targets: [{ kind: "env-file", path: owned.target }] }));
  owned.child = spawn(command[0]!, [...command.slice(1), "watch", "--config", ownedConfig, "--quiet"], { stdio: "ignore", env: { PATH: process.env.PATH, HOME: ownedDir } });
  return [seed, floor, lean, ours, owned];
}

/** The process and all its descendants (the seed's shells and inotifywait; oauth-sync's findmnt). */
async function tree(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) for (const [child, parent] of parents) if (parent === all[i]) all.push(child);
  return all;
}

/** Per thread (pid/tid) of the tree: CPU nanoseconds and voluntary switches; RSS summed in MB. */
async function sample(pid: number) {
  const threads = new Map<string, { cpuNs: number; switches: number; name: string }>();
  let rssKb = 0;
  let mainRssKb = 0;
  let mainAnonKb = 0;
  let mainFileKb = 0;
  for (const p of await tree(pid)) {
    const status = await readFile(`/proc/${p}/status`, "utf8").catch(() => "");
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    rssKb += rss;
    if (p === pid) {
      mainRssKb = rss;
      mainAnonKb = Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0);
      mainFileKb = Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0);
    }
    const command = (await readFile(`/proc/${p}/comm`, "utf8").catch(() => "?")).trim();
    for (const tid of await readdir(`/proc/${p}/task`).catch(() => [] as string[])) {
      const cpuNs = Number((await readFile(`/proc/${p}/task/${tid}/schedstat`, "utf8").catch(() => "0")).split(" ")[0]);
      const switches = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(await readFile(`/proc/${p}/task/${tid}/status`, "utf8").catch(() => ""))?.[1] ?? 0);
      const thread = (await readFile(`/proc/${p}/task/${tid}/comm`, "utf8").catch(() => "?")).trim();
      // Threads Bun leaves unnamed carry the process's name: the main thread is told apart by its id.
      const name = p === pid ? (tid === String(pid) ? "main" : thread === command ? "unnamed" : thread) : `${command}:${thread}`;
      threads.set(`${p}/${tid}`, { cpuNs, switches, name });
    }
  }
  return { threads, rssMb: rssKb / 1024, mainRssMb: mainRssKb / 1024, mainAnonMb: mainAnonKb / 1024, mainFileMb: mainFileKb / 1024 };
}

/**
 * What the threads did between two samples: a thread alive at both counts its difference, one born in between all of
 * it. (A thread that ended in between, such as a garbage-collector helper, is lost: a small undercount.)
 */
function activity(before: Awaited<ReturnType<typeof sample>>, after: Awaited<ReturnType<typeof sample>>) {
  let cpuNs = 0;
  let switches = 0;
  const byThread = new Map<string, { cpuNs: number; switches: number }>();
  for (const [id, end] of after.threads) {
    const start = before.threads.get(id) ?? { cpuNs: 0, switches: 0 };
    cpuNs += end.cpuNs - start.cpuNs;
    switches += end.switches - start.switches;
    const named = byThread.get(end.name) ?? { cpuNs: 0, switches: 0 };
    named.cpuNs += end.cpuNs - start.cpuNs;
    named.switches += end.switches - start.switches;
    byThread.set(end.name, named);
  }
  return { cpuNs, switches, byThread };
}

/**
 * The process's RSS, split: anonymous (heap, stacks: the process's own) and file-backed (pages of the executable it
 * touched: clean, shared with other processes of the same binary, reclaimable); and its children's.
 */
const mb = (s: { rssMb: number; mainRssMb: number; mainAnonMb: number; mainFileMb: number }) =>
  `${s.mainRssMb.toFixed(1)} MB (anon ${s.mainAnonMb.toFixed(1)}, file ${s.mainFileMb.toFixed(1)})${s.rssMb - s.mainRssMb > 0.05 ? ` +${(s.rssMb - s.mainRssMb).toFixed(1)} children` : ""}`;

const subjects = await startAll();
const wakers: string[] = [];
try {
  await Bun.sleep(30_000); // past start-up: the first copy written, the garbage collector's start-up work done
  for (const s of subjects) await waitForToken([s.target], "sk-ant-oat01-", 10_000);
  const before = await Promise.all(subjects.map((s) => sample(s.child!.pid!)));
  console.error(`idle for ${idleSeconds} s …`);
  await Bun.sleep(idleSeconds * 1000);
  const after = await Promise.all(subjects.map((s) => sample(s.child!.pid!)));
  subjects.forEach((s, i) => {
    const done = activity(before[i]!, after[i]!);
    s.cpuPerHour = (done.cpuNs / 1e9) * (3600 / idleSeconds);
    s.figures["CPU per idle hour"] = `${s.cpuPerHour.toFixed(3)} s`;
    s.figures["wake-ups per idle minute"] = ((done.switches * 60) / idleSeconds).toFixed(1);
    s.figures["RSS idle"] = mb(after[i]!);
    const busy = [...done.byThread].filter(([, t]) => t.switches > 0).sort((a, b) => b[1].switches - a[1].switches);
    wakers.push(`${s.name}: ${busy.map(([name, t]) => `${name} ${((t.switches * 60) / idleSeconds).toFixed(1)}/min ${((t.cpuNs / 1e9) * (3600 / idleSeconds)).toFixed(3)} s/h`).join(", ") || "none"}`);
  });

  let expiresAt = Date.now() + 9 * HOUR;
  for (const s of subjects) {
    const samples: number[] = [];
    let misses = 0;
    console.error(`${s.name}: ${rotations} rotations …`);
    for (let i = 1; i <= rotations; i++) {
      const token = fakeToken();
      expiresAt += 1000;
      const started = performance.now();
      await rotate(s, token, expiresAt);
      const took = await waitForToken([s.target], token, 5000, started).catch(() => undefined);
      if (took === undefined) misses++;
      else samples.push(took);
      if (i === 1000 || i === rotations) {
        await Bun.sleep(2000);
        s.figures[`RSS after ${i} rotations`] = mb(await sample(s.child!.pid!));
      }
    }
    const sorted = samples.sort((a, b) => a - b);
    s.p50 = percentile(sorted, 50);
    s.p99 = percentile(sorted, 99);
    s.figures["rename → target p50 / p99"] = `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} ms`;
    s.figures["rotations not landed in 5 s"] = String(misses);
  }
} finally {
  for (const s of subjects) {
    for (const pid of (await tree(s.child!.pid!)).reverse()) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {}
    }
  }
  await Bun.sleep(500);
  await rm(root, { recursive: true, force: true });
}

const rows = Object.keys(subjects.at(-1)!.figures);
console.log(`resident cost, ${idleSeconds} s idle, ${rotations} rotations (temp file + rename)${privateMounts ? ", oauth-sync in a mount namespace of its own" : ""}, ${new Date().toISOString()}`);
console.log(["".padEnd(30), ...subjects.map((s) => s.name.padStart(44))].join(""));
for (const row of rows) console.log([row.padEnd(30), ...subjects.map((s) => (s.figures[row] ?? "").padStart(44))].join(""));
console.log(`idle wake-ups and CPU by thread:\n  ${wakers.join("\n  ")}`);
const anchor = subjects.find((s) => s.name === "floor+")!;
const vsAnchor = (s: Subject) =>
  `${s.name}: CPU per idle hour ${(s.cpuPerHour! - anchor.cpuPerHour!).toFixed(3)} s (${(s.cpuPerHour! / anchor.cpuPerHour!).toFixed(2)}×), p50 ${(s.p50! - anchor.p50!).toFixed(1)} ms (${(s.p50! / anchor.p50!).toFixed(2)}×), p99 ${(s.p99! - anchor.p99!).toFixed(1)} ms`;
console.log(`against floor+ (the same runtime settings):\n  ${subjects.filter((s) => s !== anchor).map(vsAnchor).join("\n  ")}`);
console.log("goals: oauth-sync CPU per idle hour within 0.1 s of floor+; RSS within 5 MB of floor, growing < 2 MB over 10 000 rotations; p50 within 5 ms of floor");
