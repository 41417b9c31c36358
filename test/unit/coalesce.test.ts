import { expect, test } from "bun:test";
import { coalescer } from "../../src/watch/coalesce.ts";

// A candidate cause of the missed rotations (issue 14): a trigger lost between the quiet timer firing and the end of a
// running task. Random triggers land at every point of a run (before, during, as it ends); every one must be followed
// by a run that started after it, and two runs never overlap.
test("no trigger is lost, whenever it arrives; never two runs at once", async () => {
  for (let round = 0; round < 20; round++) {
    let version = 0;
    let seenByLastRun = -1;
    let active = 0;
    let overlapped = false;
    const queue = coalescer(
      async () => {
        if (++active > 1) overlapped = true;
        const seen = version; // what a sync pass would read at its start
        await Bun.sleep(Math.random() * 6);
        seenByLastRun = seen;
        active--;
      },
      { quietMs: 1, maxDelayMs: 10 },
    );
    for (let i = 0; i < 60; i++) {
      version++;
      if (Math.random() < 0.2) queue.now();
      else queue.trigger();
      await Bun.sleep(Math.random() * 4);
    }
    await queue.idle();
    expect(overlapped).toBe(false);
    expect(seenByLastRun).toBe(version);
  }
}, 60_000);
