import { describe, expect, test } from "bun:test";
import { planAuthProfiles } from "../../src/targets/auth-profiles.ts";
import type { ClaudeCredentials } from "../../src/credentials/parse.ts";
import type { FilePlan } from "../../src/targets/types.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

const PATH = "/home/node/.openclaw/agents/main/agent/auth-profiles.json";
const ID = "anthropic:default";
const EXPIRES = Date.UTC(2026, 0, 15, 20, 0, 0);
const SECRET_FIELDS = ["token", "access", "refresh", "key", "expires"];
type CredentialType = "token" | "oauth" | "api_key";

const credentials = (over: Partial<ClaudeCredentials> = {}): ClaudeCredentials => ({
  accessToken: fakeToken(),
  refreshToken: fakeToken("ort"),
  expiresAt: EXPIRES,
  ...over,
});

const options = (credentialType: CredentialType = "token", profileId = ID) => ({ path: PATH, profileId, credentialType });

function next(plan: FilePlan): Record<string, any> {
  if (!plan.ok) throw new Error(plan.error);
  return JSON.parse(plan.next);
}

/** A store as OpenClaw keeps it, with our profile carrying every secret field (the "key vs access" mix-up) and a failure record. */
function store(old = fakeToken(), oldExpires = EXPIRES - 3_600_000) {
  return {
    version: 1,
    profiles: {
      [ID]: { type: "token", provider: "anthropic", token: old, access: old, refresh: "stale-refresh", key: old, expires: oldExpires, email: "me@example.com" },
      "openai:default": { type: "api_key", provider: "openai", key: "other-provider-key" },
      "anthropic:work": { type: "token", provider: "anthropic", token: "work-token", expires: 42 },
    },
    order: { anthropic: [ID, "anthropic:work"] },
    lastGood: { anthropic: ID },
    usageStats: {
      [ID]: { lastUsed: 1_700_000_000_000, errorCount: 4, cooldownUntil: 1_800_000_000_000, disabledUntil: 1_800_000_000_001, disabledReason: "auth", failureCounts: { auth: 4 } },
      "anthropic:work": { lastUsed: 5, errorCount: 2, cooldownUntil: 9 },
    },
    futureTopLevel: { kept: [1, 2, 3] },
  };
}

describe("planAuthProfiles: fields per credentialType", () => {
  const expected: Record<CredentialType, (c: ClaudeCredentials) => Record<string, unknown>> = {
    token: (c) => ({ token: c.accessToken, expires: c.expiresAt }),
    oauth: (c) => ({ access: c.accessToken, refresh: c.refreshToken, expires: c.expiresAt }),
    api_key: (c) => ({ key: c.accessToken }),
  };

  for (const type of ["token", "oauth", "api_key"] as const) {
    test(`${type}: exactly its own secret fields, none left over from a profile that had all of them`, () => {
      const c = credentials();
      const profile = next(planAuthProfiles(JSON.stringify(store()), c, options(type))).profiles[ID];
      const secrets = Object.fromEntries(Object.entries(profile).filter(([key]) => SECRET_FIELDS.includes(key)));
      expect(secrets).toEqual(expected[type](c));
      expect(profile).toEqual({ type, provider: "anthropic", email: "me@example.com", ...expected[type](c) });
    });
  }

  test("oauth without a refresh token writes no refresh field, never the stale one", () => {
    const c = credentials({ refreshToken: undefined });
    const profile = next(planAuthProfiles(JSON.stringify(store()), c, options("oauth"))).profiles[ID];
    expect(profile).not.toHaveProperty("refresh");
  });
});

describe("planAuthProfiles: the rest of the store", () => {
  test("version, order, lastGood, other profiles and unknown top-level keys are kept", () => {
    const before = store();
    const after = next(planAuthProfiles(JSON.stringify(before), credentials(), options()));
    expect(after.version).toBe(1);
    expect(after.order).toEqual(before.order);
    expect(after.lastGood).toEqual(before.lastGood);
    expect(after.futureTopLevel).toEqual(before.futureTopLevel);
    expect(after.profiles["openai:default"]).toEqual(before.profiles["openai:default"]);
    expect(after.profiles["anthropic:work"]).toEqual(before.profiles["anthropic:work"]);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(Object.keys(after.profiles).sort()).toEqual(Object.keys(before.profiles).sort());
  });

  test("a store of another version keeps its version", () => {
    const after = next(planAuthProfiles(JSON.stringify({ ...store(), version: 2 }), credentials(), options()));
    expect(after.version).toBe(2);
  });

  test("a new token clears the synced profile's failure record but keeps lastUsed; other profiles' stats untouched", () => {
    const before = store();
    const after = next(planAuthProfiles(JSON.stringify(before), credentials(), options()));
    expect(after.usageStats[ID]).toEqual({ lastUsed: 1_700_000_000_000 });
    expect(after.usageStats["anthropic:work"]).toEqual(before.usageStats["anthropic:work"]);
  });

  test("another profileId is written and only its own stats are cleared", () => {
    const before = store();
    const c = credentials();
    const after = next(planAuthProfiles(JSON.stringify(before), c, options("token", "anthropic:work")));
    expect(after.profiles["anthropic:work"]).toEqual({ type: "token", provider: "anthropic", token: c.accessToken, expires: c.expiresAt });
    expect(after.profiles[ID]).toEqual(before.profiles[ID]);
    expect(after.usageStats["anthropic:work"]).toEqual({ lastUsed: 5 });
    expect(after.usageStats[ID]).toEqual(before.usageStats[ID]);
  });

  test("reports what the profile held", () => {
    const old = fakeToken();
    const plan = planAuthProfiles(JSON.stringify(store(old, 123)), credentials(), options());
    expect(plan).toMatchObject({ ok: true, held: { token: old, expiresAt: 123 } });
  });
});

describe("planAuthProfiles: identical, unparsable, missing", () => {
  test("the same token: next is the original text, byte for byte (no reformatting, key order kept)", () => {
    const c = credentials();
    const current = {
      usageStats: { [ID]: { errorCount: 1, lastUsed: 2 } },
      profiles: { [ID]: { expires: c.expiresAt, token: c.accessToken, provider: "anthropic", type: "token" }, "openai:default": { key: "k", type: "api_key" } },
      version: 1,
    };
    for (const text of [JSON.stringify(current), JSON.stringify(current, null, 4), `${JSON.stringify(current, null, "\t")}\r\n`]) {
      const plan = planAuthProfiles(text, c, options());
      if (!plan.ok) throw new Error(plan.error);
      expect(plan.next).toBe(text);
      expect(plan.held).toEqual({ token: c.accessToken, expiresAt: c.expiresAt });
    }
  });

  test("the same token with a new expiry is rewritten, and the failure record of a token kept is not cleared", () => {
    const c = credentials();
    const current = { version: 1, profiles: { [ID]: { type: "token", provider: "anthropic", token: c.accessToken, expires: 1 } }, usageStats: { [ID]: { errorCount: 1 } } };
    const after = next(planAuthProfiles(JSON.stringify(current), c, options()));
    expect(after.profiles[ID].expires).toBe(c.expiresAt);
    expect(after.usageStats[ID]).toEqual({ errorCount: 1 });
  });

  test("an unparsable file, a JSON array or profiles that are not an object → ok:false naming the file", () => {
    for (const text of ['{"version":1,"profiles":{', "[]", "null", '{"profiles":[]}']) {
      const plan = planAuthProfiles(text, credentials(), options());
      expect(plan.ok).toBe(false);
      if (!plan.ok) expect(plan.error).toContain(PATH);
    }
  });

  test("a missing (or empty) file → {version:1, profiles:{<id>: profile}}", () => {
    const c = credentials();
    for (const text of [undefined, "", "\n"]) {
      const plan = planAuthProfiles(text, c, options());
      expect(plan).toMatchObject({ ok: true, held: undefined });
      expect(next(plan)).toEqual({ version: 1, profiles: { [ID]: { type: "token", provider: "anthropic", token: c.accessToken, expires: c.expiresAt } } });
      if (plan.ok) expect(plan.next.endsWith("}\n")).toBe(true);
    }
  });
});

describe("planAuthProfiles: what the profile holds", () => {
  test("the held token is read from the field of the profile's own type, not a stale leftover", () => {
    const current = fakeToken();
    const stale = fakeToken();
    const c = credentials({ accessToken: current, expiresAt: EXPIRES });
    const text = JSON.stringify({ version: 1, profiles: { [ID]: { type: "token", provider: "anthropic", key: stale, token: current, expires: EXPIRES } } });
    const plan = planAuthProfiles(text, c, { path: PATH, profileId: ID, credentialType: "token" });
    expect(plan.ok && plan.held?.token).toBe(current);
  });
});
