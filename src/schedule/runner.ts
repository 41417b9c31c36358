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
  /**
   * The pending timer never sleeps longer than this: it wakes, compares the clock with what is due and sleeps again.
   * A suspended machine's timers run late; this bounds how late after a resume.
   */
  maxSleepMs?: number;
}

const RUN = "run";

/**
 * One run of `task` at a time, plus at most one trailing run: a request that arrives while the task runs is not
 * lost, it gives one more run afterwards. Requests carry a reason, each with its own due time; one pending timer wakes
 * the runner for the earliest, and a run is handed every reason that has come due (so the log and `status` can say why
 * it ran). Shared by the watcher's turns, the gateway reloads, the refresh scheduler and each push worker (modelled on
 * consul-template's quiescence: a quiet period, capped by a longest wait).
 */
export function serialRunner<R extends string = typeof RUN>(task: (reasons: ReadonlySet<R>) => Promise<void> | void, options: RunnerOptions) {
  const clock = options.clock ?? realClock;
  const due = new Map<R, number>();
  const firstAt = new Map<R, number>();
  let timer: unknown;
  let timerSet = false;
  let running: Promise<void> | undefined;
  let stopped = false;
  let waiters: Array<() => void> = [];
  const byDefault = RUN as R;

  const settledNow = () => {
    if (running || due.size > 0) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };

  function clearTimer() {
    if (timerSet) clock.clearTimeout(timer);
    timer = undefined;
    timerSet = false;
  }

  const earliest = () => (due.size ? Math.min(...due.values()) : undefined);

  /** One timer for the earliest request (woken at least every maxSleepMs). */
  function arm() {
    clearTimer();
    if (stopped) due.clear();
    const at = earliest();
    if (at === undefined || running) return settledNow();
    const wait = Math.max(0, at - clock.now());
    timer = clock.setTimeout(fire, options.maxSleepMs === undefined ? wait : Math.min(wait, options.maxSleepMs));
    timerSet = true;
  }

  async function guarded(reasons: ReadonlySet<R>) {
    try {
      await task(reasons);
    } catch (error) {
      try {
        options.onError(error);
      } catch {
        // a failing error reporter must not end the runner either
      }
    }
  }

  /** Start a run with every reason that has come due; else sleep until the next one. */
  function fire() {
    clearTimer();
    if (running) return;
    if (stopped) return arm();
    const now = clock.now();
    const ready = new Set<R>();
    for (const [reason, at] of due) if (at <= now) ready.add(reason);
    if (ready.size === 0) return arm();
    for (const reason of ready) {
      due.delete(reason);
      firstAt.delete(reason);
    }
    running = guarded(ready).then(() => {
      running = undefined;
      fire();
    });
  }

  function request(reason: R, ms = 0) {
    if (stopped) return;
    due.set(reason, clock.now() + Math.max(0, ms));
    firstAt.delete(reason);
    arm();
  }

  function settle(reason: R, quietMs: number, maxDelayMs: number) {
    if (stopped) return;
    const now = clock.now();
    const first = firstAt.get(reason) ?? now;
    due.set(reason, now + Math.min(quietMs, Math.max(0, first + maxDelayMs - now)));
    firstAt.set(reason, first);
    arm();
  }

  return {
    /** Run `reason` in `ms`, replacing when it was due. */
    request,
    /** Run `reason` in `ms` unless it is already due sooner (a retry never pushes back a run asked for by a change). */
    requestWithin(reason: R, ms: number) {
      const at = due.get(reason);
      if (at !== undefined && at <= clock.now() + ms) return;
      request(reason, ms);
    },
    /** Run `reason` in `ms` unless it is already asked for (a first request is not pushed back by later ones). */
    requestUnlessDue(reason: R, ms: number) {
      if (!due.has(reason)) request(reason, ms);
    },
    /** A burst of `reason`: run once it has been quiet for `quietMs`, or `maxDelayMs` after its first request. */
    settleFor: settle,
    /** `reason` is no longer wanted. */
    cancel(reason: R) {
      due.delete(reason);
      firstAt.delete(reason);
      arm();
    },
    /** Run at once; while a run is under way, once more right after it. */
    runNow(reason: R = byDefault) {
      if (stopped) return;
      due.set(reason, clock.now());
      firstAt.delete(reason);
      fire();
    },
    /** Run in `ms`, replacing whatever was due for the default reason. */
    runIn(ms: number) {
      request(byDefault, ms);
    },
    /** Run in `ms` unless a run is already due sooner. */
    runWithin(ms: number) {
      const at = due.get(byDefault);
      if (at !== undefined && at <= clock.now() + ms) return;
      request(byDefault, ms);
    },
    /** A burst of requests: run once they have been quiet for `quietMs`, or `maxDelayMs` after the first one. */
    settle(quietMs: number, maxDelayMs: number) {
      settle(byDefault, quietMs, maxDelayMs);
    },
    /** Resolves once nothing runs and nothing is due. */
    idle(): Promise<void> {
      if (!running && due.size === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    /** No more runs; resolves when the one under way has finished. */
    async stop() {
      stopped = true;
      due.clear();
      firstAt.clear();
      clearTimer();
      await running;
      settledNow();
    },
    get busy() {
      return running !== undefined;
    },
    /** When the next run is due (epoch ms by the runner's clock), if one is. */
    get dueAt() {
      return earliest();
    },
    /** What is asked for, and when (epoch ms by the runner's clock). */
    get pending(): ReadonlyMap<R, number> {
      return due;
    },
  };
}

export type SerialRunner<R extends string = typeof RUN> = ReturnType<typeof serialRunner<R>>;
