/**
 * Runtime settings for the resident `watch`, which runs for months and works for a few milliseconds a few times a day.
 * Both are read by Bun once, before any JavaScript runs, so the process replaces itself (execve: same pid, same argv)
 * with them added to its environment:
 * - `BUN_JSC_useJIT=0`: bytecode runs in JavaScriptCore's interpreter (LLInt). The JIT tiers buy a pass nothing and
 *   cost memory that grows with every pass (compiled code, its data, the compilers' own code pages): measured 36.9 MB
 *   idle instead of 43.5, and +0.3 MB over 300 rotations instead of +5.8 (bench/memory-probe.ts, bench/idle.ts).
 * - `BUN_GC_TIMER_DISABLE=1`: no garbage-collector timer, which otherwise wakes the main thread and the collector's
 *   threads every 30 s for good (every second after activity). JavaScriptCore still collects as it allocates, and
 *   `watch` runs a full collection 10 s after its last pass; measured: the same RSS after 1 000 rotations.
 * A variable already set (to anything) is left as it is: that is how an operator keeps the JIT (`BUN_JSC_useJIT=1`).
 */
export const SERVICE_ENV: Record<string, string> = { BUN_JSC_useJIT: "0", BUN_GC_TIMER_DISABLE: "1" };

/** Pure: the environment to restart with, or undefined to carry on as we are. */
export function serviceRuntimeEnv(argv: readonly string[], env: NodeJS.ProcessEnv, compiled: boolean): NodeJS.ProcessEnv | undefined {
  if (!compiled || argv[2] !== "watch") return undefined;
  const missing = Object.entries(SERVICE_ENV).filter(([key]) => env[key] === undefined);
  return missing.length ? { ...env, ...Object.fromEntries(missing) } : undefined;
}

/** Restarts `watch` with the settings above; returns only if it did not (another verb, already done, execve failed). */
export function restartWithServiceRuntime(): void {
  const env = serviceRuntimeEnv(process.argv, process.env, Bun.main.startsWith("/$bunfs/"));
  if (!env) return;
  try {
    // The compiled binary's argv[1] is its embedded entry (/$bunfs/root/…): the arguments are argv[2] onwards.
    process.execve!(process.execPath, [process.execPath, ...process.argv.slice(2)], env);
  } catch {
    // Still a working service, at the JIT's memory cost.
  }
}
