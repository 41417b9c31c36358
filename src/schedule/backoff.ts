/**
 * Pure: the wait before retry number `attempt` (1 = the first retry): `firstMs` doubling up to `lastMs`. With
 * `random`, ±25 % jitter, so that many hosts (or many workers) do not retry in step.
 */
export function backoffMs(attempt: number, options: { firstMs?: number; lastMs: number; random?: () => number }): number {
  const base = Math.min(options.lastMs, (options.firstMs ?? 1000) * 2 ** Math.max(0, attempt - 1));
  return options.random ? Math.round(base * (0.75 + options.random() * 0.5)) : base;
}
