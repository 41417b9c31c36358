import { expect, test } from "bun:test";
import { runStress } from "../../bench/support/stress.ts";

// The short form of `bun bench/stress.ts` (which runs tens of thousands): temp file + rename in bursts with random
// gaps, against the compiled binary with the reconcile a day away. Every burst's last token must land.
test("every rotation lands: 400 rotations in bursts with random gaps (compiled binary)", async () => {
  const result = await runStress({ rotations: 400, deadlineMs: 5000 });
  try {
    expect(result.misses).toEqual([]);
    expect(result.rotations).toBe(400);
    expect(result.exit).toBe(0);
  } finally {
    await result.cleanup();
  }
}, 180_000);
