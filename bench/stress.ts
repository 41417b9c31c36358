/**
 * Missed rotations under stress: the credentials are replaced as the CLI does (temp file + rename) in bursts of 1-3
 * with random gaps, as fast as the machine allows; after each burst the last token must reach every target.
 * A burst whose last token is not in every target within the deadline is a miss (the run then goes on: the next
 * burst's token is newer and repairs it). Runs the compiled binary's `watch` with a reconcile far away.
 *   bun bench/stress.ts [rotations=20000] [deadlineMs=2000]
 * Goal (printed, not asserted): 0 misses; the worst latency stays within the follow-up look (~1 s).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runStress } from "./support/stress.ts";

const rotations = Number(process.argv[2] ?? 20_000);
const deadlineMs = Number(process.argv[3] ?? 2000);

const result = await runStress({ rotations, deadlineMs, progress: (line) => console.error(line) });
const state = JSON.parse(await readFile(join(result.sandboxRoot, "state/state.json"), "utf8").catch(() => "{}"));
await result.cleanup();

const row = (name: string, value: string) => console.log(`${name.padEnd(34)} ${value}`);
console.log(`stress: temp file + rename in bursts, compiled binary, reconcile ${result.reconcileSeconds} s away`);
row("rotations", String(result.rotations));
row("bursts (each waited for)", String(result.bursts));
row(`misses (not landed in ${deadlineMs} ms)`, String(result.misses.length));
row("landed late (> 500 ms)", String(result.late));
row("latency p50 / p99", `${result.p50.toFixed(1)} ms / ${result.p99.toFixed(1)} ms`);
row("worst latency", `${result.worst.toFixed(1)} ms`);
row("passes that found a missed rotation", `${state.watch?.missed ?? 0} (state.json watch.missed; builds before the count show 0)`);
row("run time", `${(result.elapsedMs / 1000).toFixed(0)} s`);
