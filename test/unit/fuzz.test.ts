/**
 * Property-based fuzzing (fast-check) of the pure core: 100 000 generated credentials files, each planned against
 * generated existing target contents. Nothing may throw, and nothing planned may be invalid, blank or older than what
 * the target holds. The run count is OAUTH_SYNC_FUZZ_RUNS (default 100 000).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { EXPIRY_RANGE, parseCredentials, TOKEN_SHAPE, type ClaudeCredentials } from "../../src/credentials/parse.ts";
import { planAuthProfiles } from "../../src/targets/auth-profiles.ts";
import { planEnvFile, readEnvValue } from "../../src/targets/env-file.ts";
import { holdsNewerToken } from "../../src/targets/newer.ts";
import { planOauthJson } from "../../src/targets/oauth-json.ts";
import type { FilePlan } from "../../src/targets/types.ts";

const RUNS = Number(process.env.OAUTH_SYNC_FUZZ_RUNS ?? 100_000);
const NOW = Date.UTC(2026, 11, 1);
/** What a bearer header may carry (RFC 6750's b64token), which the reader accepts after `sk-ant-o`. */
const BEARER = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/".split("");

const goodToken = (kind: "oat" | "ort") =>
  fc
    .tuple(fc.array(fc.constantFrom(...BEARER), { minLength: 20, maxLength: 120 }), fc.constantFrom("", "", "=", "=="))
    .map(([c, padding]) => `sk-ant-${kind}01-${c.join("")}${padding}`);
/** Tokens: real-shaped, real-shaped with a hostile tail, empty, or any string at all. */
const anyToken = (kind: "oat" | "ort") =>
  fc.oneof(
    { weight: 8, arbitrary: goodToken(kind) },
    fc.tuple(goodToken(kind), fc.constantFrom("\n", "\r\n", " ", "\t", "\0", "\x1b", "\x9b", "#", "'", '"', "`", "\\", "$", "\nCOMPOSE_FILE=/x", "é", "=x")).map(([t, tail]) => t + tail),
    fc.constant(""),
    fc.string({ maxLength: 60 }),
  );
const expiry = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: NOW - 2 * 3_600_000, max: NOW + 10 * 3_600_000 }) },
  fc.constantFrom(0, -1, 1, 8640000000000001, Number.MAX_SAFE_INTEGER, EXPIRY_RANGE.max + 1, 1.5, NOW / 1000),
  fc.double(),
  fc.string({ maxLength: 10 }),
);
const credentialsText = fc.oneof(
  { weight: 6, arbitrary: fc.record({ accessToken: anyToken("oat"), refreshToken: fc.option(anyToken("ort"), { nil: undefined }), expiresAt: expiry }).map((o) => JSON.stringify({ claudeAiOauth: o })) },
  { weight: 1, arbitrary: fc.record({ accessToken: fc.anything(), refreshToken: fc.anything(), expiresAt: fc.anything() }, { requiredKeys: [] }).map((o) => JSON.stringify({ claudeAiOauth: o })) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

/** Existing target contents: a real-shaped store holding some token and expiry, or anything. */
const heldStore = fc.record({ token: anyToken("oat"), expires: expiry, type: fc.constantFrom("token", "oauth", "api_key", 7) });
const authProfilesText = fc.oneof(
  heldStore.map((p) => JSON.stringify({ version: 1, profiles: { "anthropic:default": { provider: "anthropic", type: p.type, token: p.token, access: p.token, key: p.token, expires: p.expires } } })),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.constant(undefined),
);
const envText = fc.oneof(
  fc.tuple(fc.array(fc.string({ maxLength: 40 }), { maxLength: 5 }), anyToken("oat")).map(([lines, t]) => [...lines, `ANTHROPIC_OAUTH_TOKEN=${t}`].join("\n")),
  fc.string({ maxLength: 200 }),
  fc.constant(undefined),
);
const oauthJsonText = fc.oneof(
  heldStore.map((p) => JSON.stringify({ anthropic: { access: p.token, refresh: "", expires: p.expires } })),
  fc.json(),
  fc.constant(undefined),
);

function expectSafe(plan: FilePlan, credentials: ClaudeCredentials, readBack: (next: string) => string | undefined) {
  if (!plan.ok) return; // refused: nothing is written
  if (holdsNewerToken(plan.held, credentials)) return; // refused as newer: nothing is written
  expect(readBack(plan.next)).toBe(credentials.accessToken); // exactly our token, readable back
  if (plan.held?.expiresAt !== undefined && plan.held.token !== credentials.accessToken) {
    expect(plan.held.expiresAt).toBeLessThanOrEqual(credentials.expiresAt); // never an older token over a newer one
  }
}

const jsonToken = (next: string, pick: (v: Record<string, any>) => unknown) => {
  const value = pick(JSON.parse(next));
  return typeof value === "string" ? value : undefined;
};

describe(`fuzz: ${RUNS} generated credentials files against generated targets`, () => {
  test("nothing throws; what is accepted is a real-shaped, unexpired token; what is planned is valid, ours, never older", () => {
    let accepted = 0;
    fc.assert(
      fc.property(credentialsText, authProfilesText, envText, oauthJsonText, (text, profiles, env, oauth) => {
        const result = parseCredentials(text, "/fuzz/.credentials.json", NOW);
        if (!result.ok) {
          expect(result.message.length).toBeGreaterThan(0);
          return;
        }
        accepted++;
        const c = result.credentials;
        expect(TOKEN_SHAPE.test(c.accessToken)).toBe(true);
        if (c.refreshToken) expect(TOKEN_SHAPE.test(c.refreshToken)).toBe(true);
        expect(Number.isSafeInteger(c.expiresAt) && c.expiresAt > NOW && c.expiresAt <= EXPIRY_RANGE.max).toBe(true);
        for (const credentialType of ["token", "oauth", "api_key"] as const) {
          const plan = planAuthProfiles(profiles, c, { path: "/fuzz/auth-profiles.json", profileId: "anthropic:default", credentialType });
          const field = { token: "token", oauth: "access", api_key: "key" }[credentialType];
          expectSafe(plan, c, (next) => jsonToken(next, (v) => v.profiles["anthropic:default"][field]));
        }
        expectSafe(planEnvFile(env, c, { path: "/fuzz/.env", variable: "ANTHROPIC_OAUTH_TOKEN" }), c, (next) => readEnvValue(next, "ANTHROPIC_OAUTH_TOKEN"));
        expectSafe(planOauthJson(oauth, c, { path: "/fuzz/oauth.json", provider: "anthropic" }), c, (next) => jsonToken(next, (v) => v.anthropic.access));
      }),
      { numRuns: RUNS },
    );
    console.log(`fuzz: ${RUNS} runs, ${accepted} credentials files accepted, each planned into 5 targets`);
    expect(accepted).toBeGreaterThan(RUNS / 10); // the generator reaches the planners, not only the refusals
  }, 600_000);
});
