/**
 * Fail loud, not closed, on a new token format: anything a bearer header may carry (RFC 6750 b64token) after
 * `sk-ant-o` is synced, into every form we write; what could break a form is refused with its reason, and a
 * person hears of it with the release to look for.
 */
import { describe, expect, test } from "bun:test";
import { openclawCliTargetSchema } from "../../src/config/schema.ts";
import { parseCredentials, RELEASES_URL, TOKEN_SHAPE, tokenProblem } from "../../src/credentials/parse.ts";
import { credentialsJson } from "../../src/demo/sandbox.ts";
import { fingerprint, redact } from "../../src/log/redact.ts";
import { tokenFormatEvent } from "../../src/notify/event.ts";
import type { ProcessRunner, RunOptions } from "../../src/process/run.ts";
import { encodeTokenMessage, parseMessage } from "../../src/push/message.ts";
import { planAuthProfiles } from "../../src/targets/auth-profiles.ts";
import { planEnvFile, readEnvValue } from "../../src/targets/env-file.ts";
import { execPayload } from "../../src/targets/exec.ts";
import { planJsonFile } from "../../src/targets/json-file.ts";
import { planOauthJson } from "../../src/targets/oauth-json.ts";
import { openclawCliTarget } from "../../src/targets/openclaw-cli.ts";

const NOW = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;
const FILE = "/root/.claude/.credentials.json";
/** Every character a b64token may hold, and `=` padding: a format Anthropic could issue tomorrow. */
const WIDE = "sk-ant-oat02-AZaz09-._~+/Ab.cd~ef+gh/ij-kl_mn0123456789abcdefghij==";
const WIDE_REFRESH = "sk-ant-ort02-zz/yy+xx~ww.vv_uu-tt0123456789abcdefghijklmnop=";

describe("a token in a wider bearer alphabet is synced", () => {
  const parsed = parseCredentials(credentialsJson(WIDE, NOW + 8 * HOUR, WIDE_REFRESH), FILE, NOW);
  if (!parsed.ok) throw new Error(parsed.message);
  const credentials = parsed.credentials;

  test("the reader accepts it, access and refresh token", () => {
    expect(credentials).toMatchObject({ accessToken: WIDE, refreshToken: WIDE_REFRESH });
    expect(TOKEN_SHAPE.test(WIDE)).toBe(true);
  });

  test(".env: written so compose, systemd and a shell read back exactly the token (quoted where `~` needs it)", () => {
    const plan = planEnvFile("A=1\nANTHROPIC_OAUTH_TOKEN=old\n", credentials, { path: "/x/.env", variable: "ANTHROPIC_OAUTH_TOKEN" });
    if (!plan.ok) throw new Error(plan.error);
    expect(readEnvValue(plan.next, "ANTHROPIC_OAUTH_TOKEN")).toBe(WIDE);
    expect(plan.next).toBe(`A=1\nANTHROPIC_OAUTH_TOKEN='${WIDE}'\n`);
  });

  test("auth-profiles.json (each credential type) and oauth.json hold it as a JSON string", () => {
    for (const credentialType of ["token", "oauth", "api_key"] as const) {
      const plan = planAuthProfiles(undefined, credentials, { path: "/x/auth-profiles.json", profileId: "anthropic:default", credentialType });
      if (!plan.ok) throw new Error(plan.error);
      const profile = JSON.parse(plan.next).profiles["anthropic:default"];
      expect(profile[{ token: "token", oauth: "access", api_key: "key" }[credentialType]]).toBe(WIDE);
      if (credentialType === "oauth") expect(profile.refresh).toBe(WIDE_REFRESH);
    }
    const oauth = planOauthJson(undefined, credentials, { path: "/x/oauth.json", provider: "anthropic" });
    if (!oauth.ok) throw new Error(oauth.error);
    expect(JSON.parse(oauth.next).anthropic.access).toBe(WIDE);
  });

  test("a json-file target holds it at its pointer; an exec target's stdin line carries it as JSON", () => {
    const plan = planJsonFile('{"auth":{}}', credentials, { path: "/x/app.json", tokenPointer: "/auth/token", expiresAtFormat: "ms" } as never);
    if (!plan.ok) throw new Error(plan.error);
    expect(JSON.parse(plan.next).auth.token).toBe(WIDE);
    const line = execPayload(credentials, ["accessToken", "expiresAt"]);
    expect(line.endsWith("\n") && !line.slice(0, -1).includes("\n")).toBe(true);
    expect(JSON.parse(line)).toEqual({ accessToken: WIDE, expiresAt: NOW + 8 * HOUR });
  });

  test("openclaw paste-token gets it on stdin (never in argv), followed by the CR the prompt submits on", async () => {
    const calls: Array<{ argv: string[]; stdin?: string }> = [];
    const run: ProcessRunner = async (argv: string[], options: RunOptions) => {
      calls.push({ argv, stdin: options.stdin as string | undefined });
      return { code: 0, stdout: "", stderr: "", timedOut: false };
    };
    const config = openclawCliTargetSchema.parse({ kind: "openclaw-cli", command: ["docker", "exec", "-i", "gw", "openclaw"] });
    const outcome = await openclawCliTarget(config).sync(credentials, { now: NOW, run, state: undefined });
    expect(outcome.status).toBe("written");
    expect(calls[0]!.stdin).toBe(`${WIDE}\r`);
    expect(calls[0]!.argv.join(" ")).not.toContain("sk-ant-");
  });

  test("the push message carries it and the receiver accepts it", () => {
    const line = encodeTokenMessage(credentials);
    expect(line).not.toContain(WIDE_REFRESH);
    const message = parseMessage(line, NOW);
    expect(message).toMatchObject({ ok: true, message: { kind: "token", fingerprint: fingerprint(WIDE), credentials: { accessToken: WIDE } } });
  });

  test("redaction hides all of it; fingerprints are of the whole token", () => {
    const shown = redact(`token ${WIDE} and ${WIDE_REFRESH}.`);
    expect(shown).toBe(`token sk-ant-…[${fingerprint(WIDE)}] and sk-ant-…[${fingerprint(WIDE_REFRESH)}].`);
  });
});

describe("what could break a form is refused, with its reason and never the token", () => {
  const base = "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz0123456789";
  const cases: Array<[string, string, RegExp]> = [
    ["a double quote", `${base}"x`, /a quote U\+0022 at position \d+/],
    ["a single quote", `${base}'x`, /a quote U\+0027/],
    ["a backslash", `${base}\\x`, /a backslash U\+005C/],
    ["a space", `${base} x`, /whitespace U\+0020/],
    ["a tab", `${base}\tx`, /whitespace U\+0009/],
    ["a newline and a second variable", `${base}\nCOMPOSE_FILE=/etc/evil.yml`, /whitespace U\+000A/],
    ["ESC", `${base}\x1b[2J`, /control character U\+001B/],
    ["DEL", `${base}\x7f`, /control character U\+007F/],
    ["a dollar (compose interpolation)", `${base}$HOME`, /the character U\+0024/],
    ["a non-ASCII letter", `${base}é`, /the character U\+00E9/],
    ["padding in the middle", `${base}==x`, /padding comes last/],
    ["an API key's prefix", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789", /not the prefix of one/],
    ["too short", "sk-ant-oat01-abc", /characters: expected/],
  ];
  for (const [name, token, reason] of cases) {
    test(name, () => {
      const result = parseCredentials(credentialsJson(token, NOW + HOUR), FILE, NOW);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.reason).toBe("unrecognised-token");
      expect(result.message).toMatch(reason);
      expect(result.message).toContain(FILE);
      expect(result.message).toContain(RELEASES_URL);
      expect(result.message).not.toContain(base.slice(12));
      expect(tokenProblem(token, "accessToken")).toMatch(reason);
    });
  }
});

describe("a person hears of it", () => {
  test("the token-format event names the reason, the running release and where to look for a later one", () => {
    const result = parseCredentials(credentialsJson("sk-ant-oat01-abcdefghijklmnopqrstuvwxyz0123456789\"x", NOW + HOUR), FILE, NOW);
    if (result.ok) throw new Error("accepted");
    const event = tokenFormatEvent("gw1", NOW, { message: result.message, version: "1.2.3" });
    expect(event).toMatchObject({ kind: "token-format", severity: "error" });
    expect(event.title).toContain("oauth-sync 1.2.3 does not accept");
    expect(event.text).toContain("a quote U+0022");
    expect(event.text).toContain(RELEASES_URL);
    expect(event.text).toContain("keeps the last good token");
  });
});
