import type { Clock } from "../../src/schedule/runner.ts";

/**
 * A clock whose time moves only when the test says so: `advance(ms)` fires the timers that come due, in order of
 * their due time, each at its own time (a timer armed by one that fires runs too if it is due within the advance).
 */
export function fakeClock(start = 0) {
  let now = start;
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
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = Math.max(now, due.at);
        due.fn();
      }
      now = end;
    },
    /** Timers armed and not yet fired. */
    get timers() {
      return timers.length;
    },
    /** When the earliest armed timer is due. */
    get nextAt(): number | undefined {
      return timers.map((t) => t.at).sort((a, b) => a - b)[0];
    },
  } satisfies Clock & Record<string, unknown>;
}
