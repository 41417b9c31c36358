export interface CoalesceOptions {
  quietMs: number;
  maxDelayMs: number;
}

/**
 * Runs `task` once a burst of triggers has gone quiet (or has lasted maxDelayMs), never twice at once;
 * a trigger that arrives while the task runs gives exactly one more run afterwards.
 */
export function coalescer(task: () => Promise<void>, options: CoalesceOptions) {
  let quietTimer: ReturnType<typeof setTimeout> | undefined;
  let firstAt: number | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const fire = () => {
    clearTimeout(quietTimer);
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
    trigger(now = Date.now()) {
      firstAt ??= now;
      clearTimeout(quietTimer);
      const wait = Math.min(options.quietMs, Math.max(0, firstAt + options.maxDelayMs - now));
      quietTimer = setTimeout(fire, wait);
    },
    /** Run now, bypassing the quiet period (reconcile, retries). */
    now: fire,
    async idle() {
      while (running || quietTimer) await (running ?? new Promise((r) => setTimeout(r, 5)));
    },
    cancel() {
      clearTimeout(quietTimer);
      quietTimer = undefined;
    },
  };
}
