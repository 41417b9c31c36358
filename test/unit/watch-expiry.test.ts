import { describe, expect, test } from "bun:test";
import { missedBy, nextExpiryCheck, type PassReason } from "../../src/watch/expiry.ts";
import { parseMountLine } from "../../src/watch/mounts.ts";

const MIN = 60_000;

describe("nextExpiryCheck", () => {
  const expires = 100 * MIN;
  test("the first checkpoint still ahead, then the next, then none", () => {
    expect(nextExpiryCheck(expires, 0, [180, 60])).toBe(expires - 3 * MIN);
    expect(nextExpiryCheck(expires, expires - 3 * MIN, [180, 60])).toBe(expires - MIN);
    expect(nextExpiryCheck(expires, expires - MIN, [180, 60])).toBeUndefined();
  });
  test("started inside the last minutes: only the checkpoints not yet passed", () => {
    expect(nextExpiryCheck(expires, expires - 2 * MIN, [180, 60])).toBe(expires - MIN);
  });
  test("the order of the list does not matter; nothing held, nothing to check", () => {
    expect(nextExpiryCheck(expires, 0, [60, 180])).toBe(expires - 3 * MIN);
    expect(nextExpiryCheck(undefined, 0, [180, 60])).toBeUndefined();
  });
});

describe("missedBy", () => {
  const reasons = (...r: PassReason[]) => new Set(r);
  test("a net pass that read a new token and wrote it found a miss", () => {
    expect(missedBy(reasons("expiry"), true, true)).toBe("expiry");
    expect(missedBy(reasons("reconcile", "look"), true, true)).toBe("look");
  });
  test("an event among the reasons explains the change", () => {
    expect(missedBy(reasons("look", "event"), true, true)).toBeUndefined();
    expect(missedBy(reasons("start"), true, true)).toBeUndefined();
    expect(missedBy(reasons("retry"), true, true)).toBeUndefined();
  });
  test("nothing new read, or nothing written: no miss", () => {
    expect(missedBy(reasons("expiry"), false, true)).toBeUndefined();
    expect(missedBy(reasons("expiry"), true, false)).toBeUndefined();
  });
});

describe("parseMountLine", () => {
  test("findmnt -r output, with escaped blanks", () => {
    expect(parseMountLine("mount /root/.claude")).toEqual({ action: "mount", target: "/root/.claude" });
    expect(parseMountLine("umount /home/a\\x20b/.claude\n")).toEqual({ action: "umount", target: "/home/a b/.claude" });
    expect(parseMountLine("")).toBeUndefined();
  });
});
