import { writeFile } from "node:fs/promises";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken } from "../../src/demo/sandbox.ts";
import { start } from "../../test/support/binary.ts";
import { percentile } from "./percentile.ts";

const HOUR = 3_600_000;

export interface StressOptions {
  rotations: number;
  /** A burst's last token must be in every target within this. */
  deadlineMs: number;
  progress?: (line: string) => void;
  /** Extra `watch` settings for the config. */
  watch?: Record<string, unknown>;
}

/** Gaps drawn to hit every path of the watcher: back-to-back, inside @parcel/watcher's 50 ms batch, after its 500 ms idle. */
function gapMs(): number {
  const r = Math.random();
  if (r < 0.7) return Math.random() * 60;
  if (r < 0.95) return 60 + Math.random() * 200;
  return 500 + Math.random() * 300;
}

export async function runStress(options: StressOptions) {
  const sandbox = await createSandbox("oauth-sync-stress-");
  const reconcileSeconds = 86_400;
  await writeFile(sandbox.configPath, JSON.stringify({ ...sandbox.config, watch: { reconcileSeconds, ...options.watch } }));
  const paths = Object.values(sandbox.files);
  let expiresAt = Date.now() + 8 * HOUR;
  const first = fakeToken();
  await rotate(sandbox, first, expiresAt);
  const watcher = start(["watch", "--config", sandbox.configPath, "--quiet"]);
  await waitForToken(paths, first, 10_000);

  const samples: number[] = [];
  const misses: Array<{ rotation: number; gapBeforeMs: number; burst: number }> = [];
  let rotations = 0;
  let bursts = 0;
  let late = 0;
  let gapBefore = 0;
  const began = performance.now();
  while (rotations < options.rotations) {
    const size = 1 + Math.floor(Math.random() * 3);
    let token = "";
    let started = 0;
    for (let i = 0; i < size && rotations < options.rotations; i++) {
      token = fakeToken();
      expiresAt += 1000;
      started = performance.now();
      await rotate(sandbox, token, expiresAt);
      rotations++;
      if (i < size - 1) await Bun.sleep(Math.random() * 15);
    }
    bursts++;
    const took = await waitForToken(paths, token, options.deadlineMs, started).catch(() => undefined);
    if (took === undefined) {
      misses.push({ rotation: rotations, gapBeforeMs: Math.round(gapBefore), burst: size });
      options.progress?.(`miss at rotation ${rotations} (burst of ${size}, ${Math.round(gapBefore)} ms after the previous burst)`);
      // Wait for it anyway (a safety net may land it), so the next burst starts from a settled service.
      const repaired = await waitForToken(paths, token, 10_000, started).catch(() => undefined);
      if (repaired !== undefined) samples.push(repaired);
    } else {
      samples.push(took);
      if (took > 500) late++;
    }
    if (bursts % 500 === 0) options.progress?.(`${rotations} rotations, ${misses.length} misses, ${((performance.now() - began) / 1000).toFixed(0)} s`);
    gapBefore = gapMs();
    await Bun.sleep(gapBefore);
  }
  const elapsedMs = performance.now() - began;
  const exit = await watcher.stop();
  const sorted = samples.sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p);
  return {
    rotations,
    bursts,
    misses,
    late,
    p50: at(50),
    p99: at(99),
    worst: sorted.at(-1) ?? NaN,
    elapsedMs,
    exit,
    output: watcher.output(),
    reconcileSeconds,
    sandboxRoot: sandbox.root,
    cleanup: () => removeSandbox(sandbox),
  };
}
