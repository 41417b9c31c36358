import { describe, expect, test } from "bun:test";
import { planOauthJson } from "../../src/targets/oauth-json.ts";
import type { ClaudeCredentials } from "../../src/credentials/parse.ts";
import type { FilePlan } from "../../src/targets/types.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

const PATH = "/home/node/.openclaw/credentials/oauth.json";
const EXPIRES = Date.UTC(2026, 0, 15, 20, 0, 0);
const options = { path: PATH, provider: "anthropic" };

const credentials = (over: Partial<ClaudeCredentials> = {}): ClaudeCredentials => ({
  accessToken: fakeToken(),
  refreshToken: fakeToken("ort"),
  expiresAt: EXPIRES,
  ...over,
});

function next(plan: FilePlan): Record<string, any> {
  if (!plan.ok) throw new Error(plan.error);
  return JSON.parse(plan.next);
}

describe("planOauthJson", () => {
  test("the anthropic entry is updated (access, refresh, expires); its other fields and other providers are kept", () => {
    const old = fakeToken();
    const before = {
      "openai-codex": { access: "codex-access", refresh: "codex-refresh", expires: 7, accountId: "acct" },
      anthropic: { access: old, refresh: "old-refresh", expires: 1, email: "me@example.com" },
      somethingElse: [1, 2],
    };
    const c = credentials();
    const plan = planOauthJson(JSON.stringify(before, null, 2), c, options);
    expect(plan).toMatchObject({ ok: true, held: { token: old, expiresAt: 1 } });
    const after = next(plan);
    expect(after.anthropic).toEqual({ access: c.accessToken, refresh: c.refreshToken, expires: c.expiresAt, email: "me@example.com" });
    expect(after["openai-codex"]).toEqual(before["openai-codex"]);
    expect(after.somethingElse).toEqual(before.somethingElse);
    expect(Object.keys(after)).toEqual(Object.keys(before));
  });

  test("another provider name writes that entry only", () => {
    const c = credentials();
    const after = next(planOauthJson(JSON.stringify({ anthropic: { access: "a", refresh: "r", expires: 1 } }), c, { path: PATH, provider: "claude" }));
    expect(after).toEqual({ anthropic: { access: "a", refresh: "r", expires: 1 }, claude: { access: c.accessToken, refresh: c.refreshToken, expires: c.expiresAt } });
  });

  test("no refresh token → an empty refresh, never the stale one", () => {
    const after = next(planOauthJson(JSON.stringify({ anthropic: { access: "a", refresh: "stale", expires: 1 } }), credentials({ refreshToken: undefined }), options));
    expect(after.anthropic.refresh).toBe("");
  });

  test("the same login: next is the original text, byte for byte", () => {
    const c = credentials();
    const text = JSON.stringify({ anthropic: { expires: c.expiresAt, refresh: c.refreshToken, access: c.accessToken }, openai: {} });
    const plan = planOauthJson(text, c, options);
    if (!plan.ok) throw new Error(plan.error);
    expect(plan.next).toBe(text);
  });

  test("an unparsable file or a non-object → ok:false naming the file", () => {
    for (const text of ['{"anthropic":', "[]", '"x"']) {
      const plan = planOauthJson(text, credentials(), options);
      expect(plan.ok).toBe(false);
      if (!plan.ok) expect(plan.error).toContain(PATH);
    }
  });

  test("a missing file → only the provider's entry, nothing held", () => {
    const c = credentials();
    const plan = planOauthJson(undefined, c, options);
    expect(plan).toMatchObject({ ok: true, held: undefined });
    expect(next(plan)).toEqual({ anthropic: { access: c.accessToken, refresh: c.refreshToken, expires: c.expiresAt } });
  });
});
