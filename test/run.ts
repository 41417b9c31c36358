/**
 * `npm test`: every suite with bun's runner, then a check that the host is as the suites found it (one more test
 * in the count: test/support/host-check.ts), then the closing line CI reads: "N passed, N failed, N skipped".
 *
 *   bun test/run.ts [paths or bun test flags…]
 *
 * The suite's own Docker daemon (test/bed/docker.sh) is stopped before the check.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOCKER_BED_ENV, DOCKER_BED_SCRIPT } from "./bed/docker.ts";
import { differences, snapshot, trackProcesses, type HostSnapshot } from "./support/host-check.ts";

const cache = process.env.OAUTH_SYNC_TESTBED_CACHE || join(process.env.HOME || "/root", ".cache/oauth-sync-testbed");
const isRoot = process.getuid?.() === 0;

interface Counts {
  tests: number;
  failed: number;
  skipped: number;
}

/** Counts from bun's junit report, and each file's time. */
function readReport(path: string): Counts & { files: Array<{ file: string; seconds: number }> } {
  const xml = readFileSync(path, "utf8");
  const suite = /<testsuites[^>]*>/.exec(xml)?.[0] ?? "";
  const count = (name: string) => Number(new RegExp(`${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const files = [...xml.matchAll(/^  <testsuite name="[^"]*" file="([^"]+)"[^>]* time="([\d.]+)"/gm)].map((m) => ({ file: m[1]!, seconds: Number(m[2]) }));
  return { tests: count("tests"), failed: count("failures") + count("errors"), skipped: count("skipped"), files };
}

async function runSuites(args: string[], env: Record<string, string | undefined>, reports: string): Promise<{ code: number; counts?: ReturnType<typeof readReport>; error?: string }> {
  const report = join(reports, "junit.xml");
  const proc = Bun.spawn([process.execPath, "test", "--timeout", "600000", "--reporter=junit", `--reporter-outfile=${report}`, ...args], {
    stdio: ["inherit", "inherit", "inherit"],
    env,
  });
  const code = await proc.exited;
  try {
    return { code, counts: readReport(report) };
  } catch (error) {
    return { code, error: `could not read the test report ${report}: ${error}` };
  }
}

/** The suite's dockerd stops once no test process uses it; `down` makes that happen now rather than in a second. */
function stopDockerBed(): void {
  if (!isRoot) return;
  const down = Bun.spawnSync(["bash", DOCKER_BED_SCRIPT, "down"], { env: process.env, stdout: "ignore", stderr: "pipe" });
  if (down.exitCode !== 0) console.error(`test/bed/docker.sh down failed: ${down.stderr.toString().trim()}`);
}

/** Beds stop their machines and daemons on their own within seconds of their test process ending: wait for that. */
async function hostCheck(before: HostSnapshot, tracker: ReturnType<typeof trackProcesses>): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = differences(before, snapshot(cache), tracker.members());
    if (!found.length || Date.now() > deadline) return found;
    await Bun.sleep(500);
  }
}

const before = snapshot(cache);
const tracker = trackProcesses();
// Ctrl-C reaches the suites too (same process group): the runner carries on to stop the beds and check the host.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});

const reports = mkdtempSync(join(tmpdir(), "oauth-sync-test-"));
const result = await runSuites(process.argv.slice(2), { ...process.env, ...DOCKER_BED_ENV, ...tracker.marker }, reports);
stopDockerBed();
const leftovers = await hostCheck(before, tracker);
await tracker.release();
rmSync(reports, { recursive: true, force: true });

if (leftovers.length) {
  console.error(`\nhost check FAILED: the suite did not leave the machine as it found it (processes followed by ${tracker.how}; those left were ended):`);
  for (const line of leftovers) console.error(`  ${line}`);
} else {
  console.log(`host check: the machine is as the suite found it (dockerd ${before.dockerds.map((d) => d.pid).join(", ") || "none"} untouched; processes followed by ${tracker.how})`);
}

if (!result.counts) {
  console.error(result.error);
  process.exit(result.code || 1);
}
const { tests, failed, skipped, files } = result.counts;
const slowest = files.sort((a, b) => b.seconds - a.seconds).slice(0, 8);
console.log(`slowest files: ${slowest.map((f) => `${f.file.replace(/^test\//, "")} ${f.seconds.toFixed(0)} s`).join(", ")}`);
if (tests === 0) {
  console.error("no test ran");
  process.exit(1);
}
const failedAll = failed + (leftovers.length ? 1 : 0);
console.log(`${tests + 1 - failedAll - skipped} passed, ${failedAll} failed, ${skipped} skipped`);
process.exit(result.code || (leftovers.length ? 1 : 0));
