import { expect, test } from "bun:test";
import { backoffMs } from "../../src/schedule/backoff.ts";

test("one backoff: doubling from the first wait to the cap; jitter ±25 % only when asked", () => {
  expect([1, 2, 3, 4, 7, 8].map((n) => backoffMs(n, { lastMs: 60_000 }))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000]);
  expect(backoffMs(0, { lastMs: 60_000 })).toBe(1000);
  expect(backoffMs(3, { firstMs: 100, lastMs: 1000 })).toBe(400);
  expect(backoffMs(1, { lastMs: 60_000, random: () => 0 })).toBe(750);
  expect(backoffMs(1, { lastMs: 60_000, random: () => 1 })).toBe(1250);
  expect(backoffMs(20, { lastMs: 60_000, random: () => 0.5 })).toBe(60_000);
});
