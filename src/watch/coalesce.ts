export interface CoalesceOptions {
  quietMs: number;
  maxDelayMs: number;
}

/** The timers the coalescer uses: the real ones, or a fake clock in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Runs `task` once a burst of triggers has gone quiet (or has lasted maxDelayMs), never twice at once;
 * a trigger that arrives while the task runs gives exactly one more run afterwards.
 */
export function coalescer(task: () => Promise<void>, options: CoalesceOptions | (() => CoalesceOptions), clock: Clock = realClock) {
  // A getter: a config reloaded by SIGHUP applies its new timing to the next burst.
  const timing = typeof options === "function" ? options : () => options;
  let quietTimer: unknown;
  let firstAt: number | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const fire = () => {
    clock.clearTimeout(quietTimer);
    quietTimer = undefined;
    firstAt = undefined;
    if (running) {
      again = true;
      return;
    }
    running = task().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        fire();
      }
    });
  };

  return {
    trigger(now = clock.now()) {
      firstAt ??= now;
      clock.clearTimeout(quietTimer);
      const { quietMs, maxDelayMs } = timing();
      const wait = Math.min(quietMs, Math.max(0, firstAt + maxDelayMs - now));
      quietTimer = clock.setTimeout(fire, wait);
    },
    /** Run now, bypassing the quiet period (reconcile, retries). */
    now: fire,
    async idle() {
      while (running || quietTimer) await (running ?? new Promise((r) => setTimeout(r, 5)));
    },
    cancel() {
      clock.clearTimeout(quietTimer);
      quietTimer = undefined;
    },
  };
}
