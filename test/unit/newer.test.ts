import { describe, expect, test } from "bun:test";
import { holdsNewerToken } from "../../src/targets/newer.ts";
import type { ClaudeCredentials } from "../../src/credentials/parse.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

const EXPIRES = Date.UTC(2026, 0, 15, 20, 0, 0);
const HOUR = 3_600_000;
const credentials = (): ClaudeCredentials => ({ accessToken: fakeToken(), refreshToken: fakeToken("ort"), expiresAt: EXPIRES });

describe("holdsNewerToken", () => {
  test("a different token with a later expiry is refused, by fingerprints, never by value", () => {
    const c = credentials();
    const held = { token: fakeToken(), expiresAt: EXPIRES + HOUR };
    const message = holdsNewerToken(held, c);
    expect(message).toBeString();
    expect(message).toContain(fingerprint(held.token));
    expect(message).toContain(fingerprint(c.accessToken));
    expect(message).toContain(new Date(EXPIRES + HOUR).toISOString());
    expect(message).toContain("not overwritten");
    expect(message).not.toContain(held.token);
    expect(message).not.toContain(c.accessToken);
  });

  test("a different token that expires earlier or at the same time is overwritten", () => {
    const c = credentials();
    expect(holdsNewerToken({ token: fakeToken(), expiresAt: EXPIRES - HOUR }, c)).toBeUndefined();
    expect(holdsNewerToken({ token: fakeToken(), expiresAt: EXPIRES }, c)).toBeUndefined();
  });

  test("the same token is never refused, whatever expiry the target claims", () => {
    const c = credentials();
    expect(holdsNewerToken({ token: c.accessToken, expiresAt: EXPIRES + 100 * HOUR }, c)).toBeUndefined();
  });

  test("nothing held, or an empty token → write", () => {
    const c = credentials();
    expect(holdsNewerToken(undefined, c)).toBeUndefined();
    expect(holdsNewerToken({ token: "", expiresAt: EXPIRES + HOUR }, c)).toBeUndefined();
  });

  test("no expiry in the target: the state's expiry counts only when its fingerprint is the held token's", () => {
    const c = credentials();
    const held = { token: fakeToken() };
    expect(holdsNewerToken(held, c)).toBeUndefined();
    expect(holdsNewerToken(held, c, { fingerprint: fingerprint(held.token), expiresAt: EXPIRES + HOUR })).toBeString();
    expect(holdsNewerToken(held, c, { fingerprint: fingerprint(held.token), expiresAt: EXPIRES - HOUR })).toBeUndefined();
    expect(holdsNewerToken(held, c, { fingerprint: fingerprint(fakeToken()), expiresAt: EXPIRES + HOUR })).toBeUndefined();
  });

  test("the target's own expiry wins over the state's", () => {
    const c = credentials();
    const held = { token: fakeToken(), expiresAt: EXPIRES - HOUR };
    expect(holdsNewerToken(held, c, { fingerprint: fingerprint(held.token), expiresAt: EXPIRES + HOUR })).toBeUndefined();
  });

  test("an expiry Date cannot represent still gives a message instead of throwing", () => {
    const c = credentials();
    const message = holdsNewerToken({ token: fakeToken(), expiresAt: Number.POSITIVE_INFINITY }, c);
    expect(message).toContain("not overwritten");
  });
});
