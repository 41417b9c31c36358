import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCredentials, type CredentialsResult } from "../../src/credentials/parse.ts";
import { readCredentials } from "../../src/credentials/read.ts";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";

const FILE = "/home/claw/.claude/.credentials.json";
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;

function refused(result: CredentialsResult) {
  if (result.ok) throw new Error("expected a refusal, got usable credentials");
  return result;
}

/** Every refusal names the file and leaks no secret, not even a piece of one. */
function expectSafeRefusal(result: CredentialsResult, secrets: string[], file = FILE) {
  const { message } = refused(result);
  expect(message).toContain(file);
  for (const secret of secrets) {
    expect(message).not.toContain(secret);
    expect(message).not.toContain(secret.slice(0, 24));
  }
  expect(message).not.toContain("sk-ant-");
}

describe("parseCredentials", () => {
  test("usable login → access token, refresh token, expiry, subscription", () => {
    const access = fakeToken();
    const refresh = fakeToken("ort");
    const result = parseCredentials(credentialsJson(access, NOW + HOUR, refresh), FILE, NOW);
    expect(result).toEqual({
      ok: true,
      credentials: { accessToken: access, refreshToken: refresh, expiresAt: NOW + HOUR, subscriptionType: "max" },
    });
  });

  test("unknown extra keys, at the top and inside claudeAiOauth, are accepted", () => {
    const access = fakeToken();
    const text = JSON.stringify({ mcpOAuth: { x: 1 }, claudeAiOauth: { accessToken: access, expiresAt: NOW + HOUR, rateLimitTier: "t" } });
    const result = parseCredentials(text, FILE, NOW);
    expect(result).toMatchObject({ ok: true, credentials: { accessToken: access, expiresAt: NOW + HOUR } });
    if (result.ok) expect(result.credentials.refreshToken).toBeUndefined();
  });

  test("malformed JSON (a half-written file) → malformed", () => {
    const access = fakeToken();
    const refresh = fakeToken("ort");
    const text = credentialsJson(access, NOW + HOUR, refresh);
    const half = text.slice(0, text.indexOf(refresh) + 30);
    const result = parseCredentials(half, FILE, NOW);
    expect(refused(result).reason).toBe("malformed");
    expectSafeRefusal(result, [access, refresh]);
  });

  test("no claudeAiOauth → missing-fields, naming what is missing", () => {
    const result = parseCredentials(JSON.stringify({ mcpOAuth: {} }), FILE, NOW);
    expect(refused(result).reason).toBe("missing-fields");
    expect(refused(result).message).toContain("claudeAiOauth");
    expectSafeRefusal(result, []);
  });

  test("a JSON value that is not an object → missing-fields", () => {
    for (const text of ["null", "[]", '"x"', "42"]) {
      expect(refused(parseCredentials(text, FILE, NOW)).reason).toBe("missing-fields");
    }
  });

  test("no accessToken → missing-fields, naming the field, without the refresh token", () => {
    const refresh = fakeToken("ort");
    const result = parseCredentials(JSON.stringify({ claudeAiOauth: { refreshToken: refresh, expiresAt: NOW + HOUR } }), FILE, NOW);
    expect(refused(result).reason).toBe("missing-fields");
    expect(refused(result).message).toContain("claudeAiOauth.accessToken");
    expectSafeRefusal(result, [refresh]);
  });

  test("wrong types (accessToken a number, expiresAt a string) → missing-fields, without the token", () => {
    const access = fakeToken();
    const result = parseCredentials(JSON.stringify({ claudeAiOauth: { accessToken: access, expiresAt: String(NOW + HOUR) } }), FILE, NOW);
    expect(refused(result).reason).toBe("missing-fields");
    expect(refused(result).message).toContain("claudeAiOauth.expiresAt");
    expectSafeRefusal(result, [access]);
    expect(refused(parseCredentials(JSON.stringify({ claudeAiOauth: { accessToken: 1, expiresAt: NOW + HOUR } }), FILE, NOW)).reason).toBe(
      "missing-fields",
    );
  });

  test('blanked login (accessToken "" and expiresAt 0, as the CLI writes on invalid_grant) → logged-out', () => {
    const result = parseCredentials(JSON.stringify({ claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0, scopes: [] } }), FILE, NOW);
    expect(refused(result).reason).toBe("logged-out");
    expect(refused(result).message).toContain("claude auth login");
    expectSafeRefusal(result, []);
  });

  test('either half of a blanked login alone → logged-out: accessToken "" or expiresAt 0', () => {
    const access = fakeToken();
    const refresh = fakeToken("ort");
    const noToken = parseCredentials(credentialsJson("", NOW + HOUR, refresh), FILE, NOW);
    expect(refused(noToken).reason).toBe("logged-out");
    expectSafeRefusal(noToken, [refresh]);
    const noExpiry = parseCredentials(credentialsJson(access, 0, refresh), FILE, NOW);
    expect(refused(noExpiry).reason).toBe("logged-out");
    expectSafeRefusal(noExpiry, [access, refresh]);
  });

  test("expired (and expiring exactly now) → expired, with the expiry time", () => {
    const access = fakeToken();
    const refresh = fakeToken("ort");
    const result = parseCredentials(credentialsJson(access, NOW - HOUR, refresh), FILE, NOW);
    expect(refused(result).reason).toBe("expired");
    expect(refused(result).message).toContain(new Date(NOW - HOUR).toISOString());
    expectSafeRefusal(result, [access, refresh]);
    expect(refused(parseCredentials(credentialsJson(access, NOW, refresh), FILE, NOW)).reason).toBe("expired");
    expect(parseCredentials(credentialsJson(access, NOW + 1, refresh), FILE, NOW).ok).toBe(true);
  });

  test("an expiry outside 2020–2100 (or outside the Date range) is refused as malformed, not thrown", () => {
    const access = fakeToken();
    for (const expiresAt of [-1e16, 8640000000000001, 1, 1.5e12 + 0.5, Date.UTC(2100, 0, 2)]) {
      const result = parseCredentials(credentialsJson(access, expiresAt), FILE, NOW);
      expect(refused(result).reason).toBe("malformed");
      expectSafeRefusal(result, [access]);
    }
  });

  test("a token that does not have the shape of one is refused and never quoted", () => {
    const good = fakeToken();
    for (const access of [`${good}\nCOMPOSE_FILE=/etc/evil.yml`, `${good} `, "sk-ant-api03-" + "a".repeat(40), "sk-ant-oat01-short", "x".repeat(100), `${good}${"a".repeat(1000)}`]) {
      const result = parseCredentials(credentialsJson(access, NOW + HOUR), FILE, NOW);
      expect(refused(result).reason).toBe("unrecognised-token");
      expectSafeRefusal(result, [access]);
    }
    const badRefresh = parseCredentials(credentialsJson(good, NOW + HOUR, "sk-ant-ort01-\n"), FILE, NOW);
    expect(refused(badRefresh).reason).toBe("unrecognised-token");
  });

  test("an empty refresh token is reported as absent", () => {
    const result = parseCredentials(credentialsJson(fakeToken(), NOW + HOUR, ""), FILE, NOW);
    if (!result.ok) throw new Error(result.message);
    expect(result.credentials.refreshToken).toBeUndefined();
  });
});

describe("readCredentials", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "oauth-sync-credentials-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a missing file → unreadable, naming the file", async () => {
    const file = join(dir, "absent/.credentials.json");
    const result = await readCredentials(file, NOW);
    expect(refused(result).reason).toBe("unreadable");
    expect(refused(result).message).toContain(file);
    expect(refused(result).message).toContain("ENOENT");
  });

  test("a directory where the file should be → unreadable", async () => {
    const result = await readCredentials(dir, NOW);
    expect(refused(result).reason).toBe("unreadable");
    expect(refused(result).message).toContain(dir);
  });

  test("a real file is read and parsed; refusals still name it", async () => {
    const file = join(dir, ".credentials.json");
    const access = fakeToken();
    await writeFile(file, credentialsJson(access, NOW + HOUR), { mode: 0o600 });
    expect(await readCredentials(file, NOW)).toMatchObject({ ok: true, credentials: { accessToken: access } });
    await writeFile(file, credentialsJson(access, NOW - HOUR));
    const expired = await readCredentials(file, NOW);
    expect(refused(expired).reason).toBe("expired");
    expectSafeRefusal(expired, [access], file);
  });
});
