/**
 * `npm test`: every suite with bun's runner, then a check that the host is as the suites found it (one more test
 * in the count: test/support/host-check.ts), then the closing line CI reads: "N passed, N failed, N skipped".
 *
 *   bun test/run.ts                 # the whole suite, as two groups side by side (below)
 *   bun test/run.ts [paths or bun test flags…]   # just those, in one bun test
 *
 * The whole suite runs as two bun test processes at once (2 cores), each its files one after another, each line of
 * output prefixed with its group: the files that use the suite's Docker daemon or run the real OpenClaw (they import
 * test/bed/docker.ts or test/bed/openclaw.ts, directly or through a support module), and everything else. So
 * compose.test.ts, which stops that daemon on purpose, never runs beside another Docker file, and no two OpenClaw
 * workloads (a Node process busy for seconds at each start) share the CPU: OpenClaw's own start-up delays are what
 * some of those tests bound. The suite's own Docker daemon (test/bed/docker.sh) is stopped before the host check.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { DOCKER_BED_ENV, DOCKER_BED_SCRIPT } from "./bed/docker.ts";
import { differences, snapshot, trackProcesses, type HostSnapshot } from "./support/host-check.ts";

const ROOT = join(import.meta.dir, "..");
const cache = process.env.OAUTH_SYNC_TESTBED_CACHE || join(process.env.HOME || "/root", ".cache/oauth-sync-testbed");
const isRoot = process.getuid?.() === 0;
/** The beds whose users run one after another, in the first group. */
const SERIAL_BEDS = ["test/bed/docker.ts", "test/bed/openclaw.ts"];

interface Report {
  tests: number;
  failed: number;
  skipped: number;
  files: Array<{ file: string; seconds: number }>;
  failures: string[];
}

interface Group {
  name: string;
  args: string[];
}

/** Counts from bun's junit report, each file's time, and each failure as bun described it. */
function readReport(path: string): Report {
  const xml = readFileSync(path, "utf8");
  const suite = /<testsuites[^>]*>/.exec(xml)?.[0] ?? "";
  const count = (name: string) => Number(new RegExp(`${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const files = [...xml.matchAll(/^  <testsuite name="[^"]*" file="([^"]+)"[^>]* time="([\d.]+)"/gm)].map((m) => ({ file: m[1]!, seconds: Number(m[2]) }));
  return { tests: count("tests"), failed: count("failures") + count("errors"), skipped: count("skipped"), files, failures: failuresIn(xml) };
}

const FAILURE_LINES = 60;

/**
 * "file:line describe > test" and bun's account of each failed test, at most FAILURE_LINES lines each. CI keeps only
 * the end of a run's output, where a failure's details, printed when the test ended, are long gone.
 */
function failuresIn(xml: string): string[] {
  const text = (s: string) => s.replace(/&(#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) => (e.startsWith("#") ? String.fromCodePoint(Number(e.slice(1))) : { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e]!));
  const found = xml.matchAll(/<testcase name="([^"]*)" classname="([^"]*)"[^>]* file="([^"]*)" line="(\d+)"[^>]*>\s*<(?:failure|error)[^>]*>([^<]*)</g);
  return [...found].map(([, name, describe, file, line, body]) => {
    const lines = text(body!).trimEnd().split("\n");
    const shown = lines.length > FAILURE_LINES ? [...lines.slice(0, FAILURE_LINES), `… ${lines.length - FAILURE_LINES} more lines`] : lines;
    return `${file}:${line} ${[describe, name].filter((part): part is string => Boolean(part)).map(text).join(" > ")}\n${shown.map((l) => `  ${l}`).join("\n")}`;
  });
}

/** The test/ files `file` imports, directly or through others (relative imports only). */
function testImports(file: string, seen = new Set<string>()): Set<string> {
  for (const m of readFileSync(join(ROOT, file), "utf8").matchAll(/^import [^;]*?from "(\.{1,2}\/[^"]+\.ts)";/gm)) {
    const target = relative(ROOT, join(ROOT, dirname(file), m[1]!));
    if (!target.startsWith("test/") || seen.has(target)) continue;
    seen.add(target);
    testImports(target, seen);
  }
  return seen;
}

function groups(args: string[]): Group[] {
  if (args.length) return [{ name: "", args }];
  const files = [...new Bun.Glob("test/**/*.test.ts").scanSync({ cwd: ROOT })].sort();
  const serial = files.filter((f) => [...testImports(f)].some((i) => SERIAL_BEDS.includes(i)));
  const rest = files.filter((f) => !serial.includes(f));
  return [
    { name: "docker+openclaw", args: serial.map((f) => `./${f}`) },
    { name: "rest", args: rest.map((f) => `./${f}`) },
  ];
}

/** Copies a stream to `out`, each line prefixed (a group's lines stay recognisable beside the other's). */
async function relay(stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream, prefix: string): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    if (lines.length) out.write(lines.map((line) => `${prefix}${line}\n`).join(""));
  }
  if (pending) out.write(`${prefix}${pending}\n`);
}

async function runGroup(group: Group, env: Record<string, string | undefined>, reports: string): Promise<{ code: number; report?: Report; error?: string }> {
  const path = join(reports, `junit-${group.name || "all"}.xml`);
  const argv = [process.execPath, "test", "--timeout", "600000", "--reporter=junit", `--reporter-outfile=${path}`, ...group.args];
  let code: number;
  if (!group.name) {
    code = await Bun.spawn(argv, { cwd: ROOT, stdio: ["inherit", "inherit", "inherit"], env }).exited;
  } else {
    const proc = Bun.spawn(argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env });
    const prefix = `[${group.name}] `;
    [code] = await Promise.all([proc.exited, relay(proc.stdout, process.stdout, prefix), relay(proc.stderr, process.stderr, prefix)]);
  }
  try {
    return { code, report: readReport(path) };
  } catch (error) {
    return { code, error: `${group.name ? `[${group.name}] ` : ""}could not read the test report ${path}: ${error}` };
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

const started = Date.now();
const before = snapshot(cache);
const tracker = trackProcesses();
// Ctrl-C reaches the suites too (same process group): the runner carries on to stop the beds and check the host.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});

const reports = mkdtempSync(join(tmpdir(), "oauth-sync-test-"));
const env = { ...process.env, ...DOCKER_BED_ENV, ...tracker.marker };
const results = await Promise.all(groups(process.argv.slice(2)).map((group) => runGroup(group, env, reports)));
stopDockerBed();
rmSync(reports, { recursive: true, force: true }); // read above; the host check looks for what is left in the temp directory
const leftovers = await hostCheck(before, tracker);
await tracker.release();

if (leftovers.length) {
  console.error(`\nhost check FAILED: the suite did not leave the machine as it found it (processes followed by ${tracker.how}; those left were ended):`);
  for (const line of leftovers) console.error(`  ${line}`);
} else {
  console.log(`host check: the machine is as the suite found it (dockerd ${before.dockerds.map((d) => d.pid).join(", ") || "none"} untouched; processes followed by ${tracker.how})`);
}

const failedReports = results.filter((r) => !r.report);
for (const r of failedReports) console.error(r.error);
const reported = results.flatMap((r) => (r.report ? [r.report] : []));
const sum = (key: "tests" | "failed" | "skipped") => reported.reduce((n, r) => n + r[key], 0);
const tests = sum("tests");
if (tests === 0) {
  console.error("no test ran");
  process.exit(1);
}
const failures = reported.flatMap((r) => r.failures);
if (failures.length) console.log(`\nfailed, as bun reported each:\n${failures.join("\n\n")}\n`);
const slowest = reported.flatMap((r) => r.files).sort((a, b) => b.seconds - a.seconds).slice(0, 8);
console.log(`slowest files: ${slowest.map((f) => `${relative("test", f.file)} ${f.seconds.toFixed(0)} s`).join(", ")}; all in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
const failed = sum("failed") + (leftovers.length ? 1 : 0) + failedReports.length;
console.log(`${tests + 1 - failed - sum("skipped") + failedReports.length} passed, ${failed} failed, ${sum("skipped")} skipped`);
const code = results.find((r) => r.code !== 0)?.code ?? 0;
process.exit(code || (failed ? 1 : 0));
