/** The tests' one way to wait for something that happens on its own time: a file, a line of output, a daemon. */

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Between looks (default 25 ms); longer where a look is costly (a command in a container, a terminal capture). */
  intervalMs?: number;
  /** What the timeout's message adds: the output that tells why. */
  detail?: () => string | Promise<string>;
  /**
   * "continue": at the timeout return undefined instead of throwing, for a wait that only gives something time to
   * happen before the test goes on and asserts what it needs.
   */
  onTimeout?: "throw" | "continue";
}

type Value<T> = Exclude<T, false | null | undefined>;

/**
 * Looks at `condition` until it gives a value (anything but false, null or undefined) and returns that value; throws
 * "timed out after N ms waiting for WHAT" after the timeout (`options` may be just the timeout in ms). A condition
 * that throws ends the wait with its error: the way to stop early, e.g. when the process waited on has exited.
 */
export async function waitUntil<T>(what: string, condition: () => T | Promise<T>, options?: WaitOptions & { onTimeout?: "throw" } | number): Promise<Value<T>>;
export async function waitUntil<T>(what: string, condition: () => T | Promise<T>, options: WaitOptions & { onTimeout: "continue" }): Promise<Value<T> | undefined>;
export async function waitUntil<T>(what: string, condition: () => T | Promise<T>, options: WaitOptions | number = {}): Promise<Value<T> | undefined> {
  const { timeoutMs = 30_000, intervalMs = 25, detail, onTimeout = "throw" } = typeof options === "number" ? { timeoutMs: options } : options;
  const started = Date.now();
  for (;;) {
    const value = await condition();
    if (value !== false && value !== null && value !== undefined) return value as Value<T>;
    if (Date.now() - started > timeoutMs) {
      if (onTimeout === "continue") return undefined;
      const more = detail ? `\n${await detail()}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${more}`);
    }
    await Bun.sleep(intervalMs);
  }
}
