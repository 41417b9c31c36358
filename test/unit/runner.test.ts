import { expect, test } from "bun:test";
import { serialRunner } from "../../src/schedule/runner.ts";
import { fakeClock } from "../support/fake-clock.ts";

const noError = (error: unknown) => {
  throw error;
};

// A candidate cause of the missed rotations (issue 14): a trigger lost between the quiet timer firing and the end of a
// running task. Random triggers land at every point of a run (before, during, as it ends); every one must be followed
// by a run that started after it, and two runs never overlap.
test("no trigger is lost, whenever it arrives; never two runs at once", async () => {
  for (let round = 0; round < 20; round++) {
    let version = 0;
    let seenByLastRun = -1;
    let active = 0;
    let overlapped = false;
    const queue = serialRunner(
      async () => {
        if (++active > 1) overlapped = true;
        const seen = version; // what a sync pass would read at its start
        await Bun.sleep(Math.random() * 6);
        seenByLastRun = seen;
        active--;
      },
      { onError: noError },
    );
    for (let i = 0; i < 60; i++) {
      version++;
      if (Math.random() < 0.2) queue.runNow();
      else queue.settle(1, 10);
      await Bun.sleep(Math.random() * 4);
    }
    await queue.idle();
    expect(overlapped).toBe(false);
    expect(seenByLastRun).toBe(version);
  }
}, 60_000);

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("quiet period and cap on a fake clock; each burst takes the timing it is given", async () => {
  const clock = fakeClock();
  let runs = 0;
  const queue = serialRunner(async () => void runs++, { clock, onError: noError });
  queue.settle(100, 250);
  clock.advance(99);
  expect(runs).toBe(0);
  clock.advance(1);
  expect(runs).toBe(1);
  await tick();
  // A steady stream of events: the cap (250 ms after the first) forces a run.
  for (let t = 0; t < 240; t += 60) {
    queue.settle(100, 250);
    clock.advance(60);
  }
  expect(runs).toBe(1);
  queue.settle(100, 250);
  clock.advance(10);
  expect(runs).toBe(2);
  await tick();
  // New timing (a config reloaded) applies to the next burst.
  queue.settle(5, 50);
  clock.advance(5);
  expect(runs).toBe(3);
});

test("requests during a run give exactly one trailing run, which starts after the run ends", async () => {
  const clock = fakeClock();
  const events: string[] = [];
  let release!: () => void;
  const queue = serialRunner(
    async () => {
      events.push("start");
      if (events.length === 1) await new Promise<void>((resolve) => (release = resolve));
      events.push("end");
    },
    { clock, onError: noError },
  );
  queue.runNow();
  queue.runNow();
  queue.runIn(0);
  clock.advance(0);
  queue.settle(0, 0);
  clock.advance(0);
  expect(events).toEqual(["start"]);
  release();
  await queue.idle();
  expect(events).toEqual(["start", "end", "start", "end"]);
});

test("a run that throws or rejects is reported and the runner carries on", async () => {
  const errors: string[] = [];
  let n = 0;
  const queue = serialRunner(
    () => {
      n++;
      if (n === 1) throw new Error("sync throw");
      if (n === 2) return Promise.reject(new Error("async reject"));
    },
    {
      onError: (error) => {
        errors.push((error as Error).message);
        if (n === 2) throw new Error("the reporter fails too");
      },
    },
  );
  queue.runNow();
  await queue.idle();
  queue.runNow();
  await queue.idle();
  queue.runNow();
  await queue.idle();
  expect(n).toBe(3);
  expect(errors).toEqual(["sync throw", "async reject"]);
});

test("runIn replaces what was due; runWithin never pushes back a sooner run", async () => {
  const clock = fakeClock();
  let runs = 0;
  const queue = serialRunner(async () => void runs++, { clock, onError: noError });
  queue.runIn(1000);
  queue.runWithin(5000); // a retry later than the change's run: ignored
  expect(queue.dueAt).toBe(1000);
  queue.runWithin(200); // sooner: taken
  expect(queue.dueAt).toBe(200);
  queue.runIn(3000); // a new burst: replaces
  expect(queue.dueAt).toBe(3000);
  clock.advance(2999);
  expect(runs).toBe(0);
  clock.advance(1);
  expect(runs).toBe(1);
  await queue.idle();
  expect(queue.dueAt).toBeUndefined();
});

test("stop: nothing due runs, the run under way is awaited, later requests are ignored", async () => {
  const clock = fakeClock();
  let runs = 0;
  let finished = false;
  const queue = serialRunner(
    async () => {
      runs++;
      await tick();
      finished = true;
    },
    { clock, onError: noError },
  );
  queue.runNow();
  queue.runIn(10);
  await queue.stop();
  expect(finished).toBe(true);
  clock.advance(100);
  queue.runNow();
  queue.settle(0, 0);
  clock.advance(100);
  await queue.idle();
  expect(runs).toBe(1);
});

test("requests carry reasons: each its own due time, a run gets every reason that has come due", async () => {
  const clock = fakeClock();
  const runs: string[][] = [];
  const queue = serialRunner<"look" | "expiry" | "retry">(async (reasons) => void runs.push([...reasons].sort()), { clock, onError: noError });
  queue.request("look", 600);
  queue.request("expiry", 1000);
  queue.request("retry", 1000);
  queue.requestUnlessDue("look", 50); // already asked: not brought forward
  expect([...queue.pending]).toEqual([["look", 600], ["expiry", 1000], ["retry", 1000]]);
  clock.advance(600);
  expect(runs).toEqual([["look"]]);
  await tick();
  clock.advance(400);
  expect(runs).toEqual([["look"], ["expiry", "retry"]]);
  await tick();
  queue.request("retry", 100);
  queue.requestWithin("retry", 5000); // later than what is due: ignored
  queue.request("look", 10);
  queue.cancel("look");
  clock.advance(100);
  expect(runs.at(-1)).toEqual(["retry"]);
  await queue.idle();
  expect(queue.dueAt).toBeUndefined();
});

test("maxSleepMs: a long wait wakes the timer early to compare the clock, and runs only once due", async () => {
  const clock = fakeClock();
  let runs = 0;
  const armed: number[] = [];
  const spying = { ...clock, setTimeout: (fn: () => void, ms: number) => (armed.push(ms), clock.setTimeout(fn, ms)) };
  const queue = serialRunner(async () => void runs++, { clock: spying, maxSleepMs: 900_000, onError: noError });
  queue.runIn(3_600_000);
  expect(armed).toEqual([900_000]);
  for (let i = 1; i <= 3; i++) {
    clock.advance(900_000);
    expect(runs).toBe(0);
    expect(armed).toHaveLength(i + 1);
  }
  clock.advance(900_000);
  expect(runs).toBe(1);
  expect(armed).toEqual([900_000, 900_000, 900_000, 900_000]);
});
