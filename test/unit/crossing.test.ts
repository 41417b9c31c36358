import { describe, expect, test } from "bun:test";
import { target as targetSchema, type TargetConfig } from "../../src/config/schema.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";
import { credentialsFor, writesRefreshToken } from "../../src/privilege/crossing.ts";
import { planAuthProfiles } from "../../src/targets/auth-profiles.ts";
import { planEnvFile } from "../../src/targets/env-file.ts";
import { planOauthJson } from "../../src/targets/oauth-json.ts";

const login = { accessToken: fakeToken(), refreshToken: fakeToken("ort"), expiresAt: Date.UTC(2026, 0, 1), subscriptionType: "max" };
const parse = (raw: Record<string, unknown>) => targetSchema.parse(raw) as TargetConfig;

/** Every kind and form the config accepts, with whether its file (or command, or host) holds the refresh token. */
const KINDS: [string, Record<string, unknown>, boolean][] = [
  ["auth-profiles, default type (token)", { kind: "openclaw-auth-profiles", path: "/x/auth-profiles.json" }, false],
  ["auth-profiles, type token", { kind: "openclaw-auth-profiles", path: "/x/auth-profiles.json", credentialType: "token" }, false],
  ["auth-profiles, type api_key", { kind: "openclaw-auth-profiles", path: "/x/auth-profiles.json", credentialType: "api_key" }, false],
  ["auth-profiles, type oauth", { kind: "openclaw-auth-profiles", path: "/x/auth-profiles.json", credentialType: "oauth" }, true],
  ["legacy oauth.json", { kind: "openclaw-oauth-json", path: "/x/credentials/oauth.json" }, true],
  ["env-file", { kind: "env-file", path: "/x/.env" }, false],
  ["json-file", { kind: "json-file", path: "/x/settings.json", tokenPointer: "/env/CLAUDE_CODE_OAUTH_TOKEN", expiresAtPointer: "/expiresAt" }, false],
  ["exec, default fields", { kind: "exec", command: ["/usr/local/bin/take-token"], user: "oc" }, false],
  ["exec asking for the refresh token", { kind: "exec", command: ["/usr/local/bin/take-token"], user: "oc", fields: ["accessToken", "refreshToken"] }, true],
  ["openclaw-cli (paste-token)", { kind: "openclaw-cli" }, false],
  ["ssh push", { kind: "ssh", host: "backup.example", user: "oc", identityFile: "/etc/oauth-sync/ssh/id_ed25519", knownHostsFile: "/etc/oauth-sync/ssh/known_hosts" }, false],
];

describe("what crosses to the other side, per target kind", () => {
  for (const [name, raw, refresh] of KINDS) {
    test(`${name}: access token and expiry${refresh ? " and the refresh token" : ", never the refresh token"}`, () => {
      const target = parse(raw);
      expect(writesRefreshToken(target)).toBe(refresh);
      const sent = credentialsFor(target, login);
      expect(Object.keys(sent).sort()).toEqual(refresh ? ["accessToken", "expiresAt", "refreshToken"] : ["accessToken", "expiresAt"]);
      expect(sent.accessToken).toBe(login.accessToken);
      expect(sent.expiresAt).toBe(login.expiresAt);
      expect(JSON.stringify(sent).includes(login.refreshToken)).toBe(refresh);
      expect(JSON.stringify(sent)).not.toContain("max"); // nothing else of the login either
    });
  }

  test("a login without a refresh token sends none, even to a form that stores one", () => {
    const sent = credentialsFor(parse({ kind: "openclaw-oauth-json", path: "/x/oauth.json" }), { ...login, refreshToken: undefined });
    expect(Object.keys(sent).sort()).toEqual(["accessToken", "expiresAt"]);
  });

  test("the rule matches the planners: what is sent is enough to write the very same file", () => {
    // The worker plans with what crossed; root plans with the whole login. Both must give the same bytes.
    const cases: [Record<string, unknown>, (c: typeof login) => string][] = [
      [{ kind: "openclaw-auth-profiles", path: "/a", credentialType: "oauth" }, (c) => (planAuthProfiles(undefined, c, { path: "/a", profileId: "anthropic:default", credentialType: "oauth" }) as { next: string }).next],
      [{ kind: "openclaw-auth-profiles", path: "/a" }, (c) => (planAuthProfiles(undefined, c, { path: "/a", profileId: "anthropic:default", credentialType: "token" }) as { next: string }).next],
      [{ kind: "openclaw-oauth-json", path: "/o" }, (c) => (planOauthJson(undefined, c, { path: "/o", provider: "anthropic" }) as { next: string }).next],
      [{ kind: "env-file", path: "/e" }, (c) => (planEnvFile(undefined, c, { path: "/e", variable: "ANTHROPIC_OAUTH_TOKEN" }) as { next: string }).next],
    ];
    for (const [raw, write] of cases) expect(write(credentialsFor(parse(raw), login) as unknown as typeof login)).toBe(write(login));
  });
});
