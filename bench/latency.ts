/**
 * Sync latency: credentials renamed into place → every file target holds the new token,
 * measured around the compiled binary's `watch`, plus the watcher's idle memory.
 *   bun bench/latency.ts [rotations=200]
 * Goals (printed, not asserted): p50 ≤ 60 ms, p99 ≤ 80 ms, idle RSS ≤ 40 MB.
 */
import { readFile } from "node:fs/promises";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken } from "../src/demo/sandbox.ts";
import { start } from "../test/support/binary.ts";
import { percentile } from "./support/percentile.ts";

const rotations = Number(process.argv[2] ?? 200);
const HOUR = 3_600_000;

const rssMb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

const sandbox = await createSandbox("oauth-sync-bench-");
const paths = Object.values(sandbox.files);
await rotate(sandbox, fakeToken(), Date.now() + 8 * HOUR);
const watcher = start(["watch", "--config", sandbox.configPath, "--quiet"]);
await watcher.waitFor(/$/);
await Bun.sleep(1000);
const pid = watcher.child.pid!;
const rssStart = await rssMb(pid);

const samples: number[] = [];
for (let i = 0; i < rotations; i++) {
  const token = fakeToken();
  const started = performance.now();
  await rotate(sandbox, token, Date.now() + 8 * HOUR + i * 1000);
  samples.push(
    await waitForToken(paths, token, 5000, started).catch((error) => {
      console.error(`rotation ${i}: ${error.message}\nwatcher output:\n${watcher.output()}`);
      process.exit(1);
    }),
  );
  await Bun.sleep(20); // rotations a real CLI would space out: each one measured on its own
}
await Bun.sleep(3000);
const rssIdle = await rssMb(pid);
await watcher.stop();
await removeSandbox(sandbox);

const sorted = [...samples].sort((a, b) => a - b);
const row = (name: string, value: string, goal: string) => console.log(`${name.padEnd(28)} ${value.padStart(10)}   goal ${goal}`);
console.log(`sync latency over ${rotations} rotations, ${paths.length} file targets (compiled binary, inotify)`);
row("p50", `${percentile(sorted, 50).toFixed(1)} ms`, "≤ 60 ms");
row("p90", `${percentile(sorted, 90).toFixed(1)} ms`, "");
row("p99", `${percentile(sorted, 99).toFixed(1)} ms`, "≤ 80 ms");
row("max", `${sorted.at(-1)!.toFixed(1)} ms`, "");
row("RSS after start", `${rssStart.toFixed(1)} MB`, "");
row("RSS idle after the run", `${rssIdle.toFixed(1)} MB`, "≤ 40 MB");
