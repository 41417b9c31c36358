/**
 * Soak: the compiled binary's `watch` (dist/oauth-sync, `bun build.ts`) on real files under N steps of token rotations
 * mixed with faults chosen by a seeded PRNG: half-written and blanked credentials, rename storms, the credentials
 * directory replaced, SIGKILL mid-pass (restarted like systemd), a full tmpfs holding a target, an immutable state
 * directory, a read-only target, a failing gateway command, concurrent `oauth-sync sync` runs. A sampler judges every
 * read of every target every few ms. Needs root (tmpfs, chattr / bind mounts); a fault that cannot run is named.
 *   bun bench/soak.ts [steps=2000] [--steps N] [--seed N] [--without kind,kind] [--log FILE]
 * --log FILE keeps the service's whole output (tokens redacted) and that of any failed `sync` run.
 * Goal (printed, not asserted): 0 in every count, convergence within 1 s, RSS growth < 2 MB over 10 000 rotations.
 */
import { parseArgs } from "node:util";
import { FAULT_KINDS, type FaultKind } from "./support/soak/faults.ts";
import { randomSeed } from "./support/soak/prng.ts";
import { soakReport } from "./support/soak/report.ts";
import { runSoak } from "./support/soak/run.ts";

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { steps: { type: "string" }, seed: { type: "string" }, without: { type: "string" }, log: { type: "string" } },
  allowPositionals: true,
});
const steps = Number(values.steps ?? positionals[0] ?? 2000);
const seed = values.seed === undefined ? randomSeed() : Number(values.seed);
const without = (values.without?.split(",").filter(Boolean) ?? []) as FaultKind[];
const unknown = without.filter((k) => !FAULT_KINDS.includes(k));
if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(seed) || unknown.length) {
  console.error(`usage: bun bench/soak.ts [steps] [--steps N] [--seed N] [--without ${FAULT_KINDS.join(",")}]`);
  process.exit(2);
}
console.error(`soak: seed ${seed}, ${steps} steps`);
const result = await runSoak({ steps, seed, without, logFile: values.log, idleMs: 11_000, progress: (line) => console.error(line) });
console.log(`soak: compiled binary's watch, ${steps} steps of rotations and faults`);
for (const line of soakReport(result)) console.log(line);
