/** The timers a runner uses: the real ones, or a fake clock in tests. */
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

export interface RunnerOptions {
  clock?: Clock;
  /** A run that threw or rejected: reported here, and the runner carries on. */
  onError: (error: unknown) => void;
}

/**
 * One run of `task` at a time, plus at most one trailing run: a request that arrives while the task runs is not
 * lost, it gives exactly one more run afterwards. One pending timer says when the next run is due.
 * Shared by the watcher's passes, the gateway reloads and the refresh scheduler (modelled on consul-template's
 * quiescence: a quiet period, capped by a longest wait).
 */
export function serialRunner(task: () => Promise<void> | void, options: RunnerOptions) {
  const clock = options.clock ?? realClock;
  let timer: unknown;
  let dueAt: number | undefined;
  let firstAt: number | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let waiters: Array<() => void> = [];

  const settledNow = () => {
    if (running || dueAt !== undefined) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };

  function clear() {
    if (dueAt !== undefined) clock.clearTimeout(timer);
    timer = dueAt = undefined;
  }

  function arm(ms: number) {
    clear();
    if (stopped) return settledNow();
    const wait = Math.max(0, ms);
    dueAt = clock.now() + wait;
    timer = clock.setTimeout(fire, wait);
  }

  async function guarded() {
    try {
      await task();
    } catch (error) {
      try {
        options.onError(error);
      } catch {
        // a failing error reporter must not end the runner either
      }
    }
  }

  function fire() {
    clear();
    firstAt = undefined;
    if (stopped) return settledNow();
    if (running) {
      again = true;
      return;
    }
    running = guarded().then(() => {
      running = undefined;
      if (again && !stopped) {
        again = false;
        fire();
      } else {
        again = false;
        settledNow();
      }
    });
  }

  return {
    /** Run at once; while a run is under way, once more right after it. */
    runNow: fire,
    /** Run in `ms`, replacing whatever was due. */
    runIn(ms: number) {
      firstAt = undefined;
      arm(ms);
    },
    /** Run in `ms` unless a run is already due sooner (a retry never pushes back a run asked for by a change). */
    runWithin(ms: number) {
      if (dueAt !== undefined && dueAt <= clock.now() + ms) return;
      firstAt = undefined;
      arm(ms);
    },
    /** A burst of requests: run once they have been quiet for `quietMs`, or `maxDelayMs` after the first one. */
    settle(quietMs: number, maxDelayMs: number) {
      const now = clock.now();
      firstAt ??= now;
      arm(Math.min(quietMs, Math.max(0, firstAt + maxDelayMs - now)));
    },
    /** Resolves once nothing runs and nothing is due. */
    idle(): Promise<void> {
      if (!running && dueAt === undefined) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    /** No more runs; resolves when the one under way has finished. */
    async stop() {
      stopped = true;
      clear();
      await running;
      settledNow();
    },
    get busy() {
      return running !== undefined;
    },
    /** When the next run is due (epoch ms by the runner's clock), if one is. */
    get dueAt() {
      return dueAt;
    },
  };
}

export type SerialRunner = ReturnType<typeof serialRunner>;
