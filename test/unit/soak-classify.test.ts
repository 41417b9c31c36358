import { describe, expect, test } from "bun:test";
import { judge, readTarget, type SoakTarget } from "../../bench/support/soak/classify.ts";
import { seeded } from "../../bench/support/soak/prng.ts";
import { credentialFields, planAuthProfiles } from "../../src/targets/auth-profiles.ts";
import { planEnvFile } from "../../src/targets/env-file.ts";
import { planOauthJson } from "../../src/targets/oauth-json.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

// The soak's sampler must be able to see every kind of bad read, or its zeros prove nothing.
const profiles: SoakTarget = { kind: "openclaw-auth-profiles", path: "/x/auth-profiles.json" };
const oauth: SoakTarget = { kind: "openclaw-oauth-json", path: "/x/oauth.json" };
const env: SoakTarget = { kind: "env-file", path: "/x/.env" };
const older = { accessToken: fakeToken(), expiresAt: 1_000 };
const newer = { accessToken: fakeToken(), expiresAt: 2_000 };
const written = (target: SoakTarget, credentials: typeof older) => {
  const plan =
    target.kind === "openclaw-auth-profiles"
      ? planAuthProfiles(undefined, credentials, { path: target.path, profileId: "anthropic:default", credentialType: "token" })
      : target.kind === "openclaw-oauth-json"
        ? planOauthJson(undefined, credentials, { path: target.path, provider: "anthropic" })
        : planEnvFile("TZ=UTC\n", credentials, { path: target.path, variable: "ANTHROPIC_OAUTH_TOKEN" });
  if (!plan.ok) throw new Error(plan.error);
  return plan.next;
};
const rank = (token: string) => (token === older.accessToken ? 0 : token === newer.accessToken ? 1 : undefined);
const fresh = { rank: -1, expiresAt: -Infinity };

describe("soak sampler verdicts", () => {
  for (const target of [profiles, oauth, env]) {
    test(`${target.kind}: what the writer writes is fine; cut short, blank, older and foreign are not`, () => {
      const text = written(target, newer);
      const fine = judge(readTarget(target, text), fresh, rank);
      expect(fine.verdict).toBe("fine");
      expect(judge(readTarget(target, text.slice(0, Math.floor(text.length / 2))), fresh, rank).verdict).toMatch(/^(corrupt|unknown|blank)$/);
      expect(judge(readTarget(target, written(target, older)), fine.seen, rank).verdict).toBe("downgrade");
      expect(judge(readTarget(target, written(target, { accessToken: fakeToken(), expiresAt: 3_000 })), fine.seen, rank).verdict).toBe("unknown");
      expect(judge(readTarget(target, undefined), fine.seen, rank).verdict).toBe("missing");
    });
  }

  test("a profile whose token is blank, and a JSON file cut short", () => {
    const blank = JSON.stringify({ version: 1, profiles: { "anthropic:default": { type: "token", provider: "anthropic", ...credentialFields({ accessToken: "", expiresAt: 0 }, "token") } } });
    expect(judge(readTarget(profiles, blank), fresh, rank).verdict).toBe("blank");
    expect(judge(readTarget(env, "TZ=UTC\nANTHROPIC_OAUTH_TOKEN=\n"), fresh, rank).verdict).toBe("blank");
    expect(judge(readTarget(oauth, '{"anthropic":{"access":"sk-'), fresh, rank).verdict).toBe("corrupt");
  });

  test("an older expiry under the same rank is a downgrade too", () => {
    const seen = { rank: 1, expiresAt: 5_000 };
    expect(judge(readTarget(oauth, written(oauth, newer)), seen, rank).verdict).toBe("downgrade");
  });

  test("the PRNG replays a seed", () => {
    const a = seeded(42);
    const b = seeded(42);
    const draws = (r: ReturnType<typeof seeded>) => [r.next(), r.int(1, 6), r.pick(["x", "y", "z"]), r.shuffle([1, 2, 3, 4])];
    expect(draws(a)).toEqual(draws(b));
    expect(seeded(43).next()).not.toBe(seeded(42).next());
  });
});
