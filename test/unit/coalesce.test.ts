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

/** A clock whose time moves only when the test says so. */
function fakeClock() {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let next = 1;
  return {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      timers.push({ at: now + ms, fn, id: next });
      return next++;
    },
    clearTimeout: (id: unknown) => {
      timers = timers.filter((t) => t.id !== id);
    },
    advance(ms: number) {
      now += ms;
      for (const due of timers.filter((t) => t.at <= now)) {
        timers = timers.filter((t) => t !== due);
        due.fn();
      }
    },
  };
}

test("quiet period and cap on a fake clock; timing changed by a reload applies to the next burst", async () => {
  const clock = fakeClock();
  let timing = { quietMs: 100, maxDelayMs: 250 };
  let runs = 0;
  const queue = coalescer(async () => void runs++, () => timing, clock);
  queue.trigger();
  clock.advance(99);
  expect(runs).toBe(0);
  clock.advance(1);
  expect(runs).toBe(1);
  // A steady stream of events: the cap (250 ms after the first) forces a run.
  for (let t = 0; t < 240; t += 60) {
    queue.trigger();
    clock.advance(60);
  }
  await Promise.resolve();
  expect(runs).toBe(1);
  queue.trigger();
  clock.advance(10);
  expect(runs).toBe(2);
  // SIGHUP: new timing, taken by the next burst.
  timing = { quietMs: 5, maxDelayMs: 50 };
  await Promise.resolve();
  queue.trigger();
  clock.advance(5);
  expect(runs).toBe(3);
});
