import { describe, expect, test } from "bun:test";
import { planEnvFile, quoteIfNeeded, readEnvValue, setEnvValue } from "../../src/targets/env-file.ts";
import type { ClaudeCredentials } from "../../src/credentials/parse.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

const NAME = "ANTHROPIC_OAUTH_TOKEN";
const credentials = (accessToken = fakeToken()): ClaudeCredentials => ({ accessToken, refreshToken: fakeToken("ort"), expiresAt: Date.UTC(2026, 0, 15) });
const options = { path: "/opt/openclaw/.env", variable: NAME };

describe("setEnvValue", () => {
  test("comments, blank lines and the order of every other line are kept", () => {
    const token = fakeToken();
    const before = ["# OpenClaw compose settings", "OPENCLAW_CONFIG_DIR=/home/node/.openclaw", "", `${NAME}=old`, "  # indented comment", "TZ=UTC", ""].join("\n");
    const after = setEnvValue(before, NAME, token);
    expect(after).toBe(["# OpenClaw compose settings", "OPENCLAW_CONFIG_DIR=/home/node/.openclaw", "", `${NAME}=${token}`, "  # indented comment", "TZ=UTC", ""].join("\n"));
  });

  test("a missing variable is appended, after a trailing newline or adding one", () => {
    const token = fakeToken();
    expect(setEnvValue("TZ=UTC\n", NAME, token)).toBe(`TZ=UTC\n${NAME}=${token}\n`);
    expect(setEnvValue("TZ=UTC", NAME, token)).toBe(`TZ=UTC\n${NAME}=${token}\n`);
    expect(setEnvValue("", NAME, token)).toBe(`${NAME}=${token}\n`);
  });

  test("a CRLF file stays CRLF everywhere: replaced, appended, and appended after a last line without one", () => {
    const token = fakeToken();
    const lfOnly = (text: string) => text.replace(/\r\n/g, "").includes("\n");
    const replaced = setEnvValue(`# c\r\n${NAME}=old\r\nTZ=UTC\r\n`, NAME, token);
    expect(replaced).toBe(`# c\r\n${NAME}=${token}\r\nTZ=UTC\r\n`);
    const appended = setEnvValue("# c\r\nTZ=UTC\r\n", NAME, token);
    expect(appended).toBe(`# c\r\nTZ=UTC\r\n${NAME}=${token}\r\n`);
    const noFinalEol = setEnvValue("# c\r\nTZ=UTC", NAME, token);
    expect(noFinalEol).toBe(`# c\r\nTZ=UTC\r\n${NAME}=${token}\r\n`);
    for (const text of [replaced, appended, noFinalEol]) expect(lfOnly(text)).toBe(false);
  });

  test("an `export NAME=` prefix and the spacing around = are kept", () => {
    const token = fakeToken();
    expect(setEnvValue(`export ${NAME}=old\n`, NAME, token)).toBe(`export ${NAME}=${token}\n`);
    expect(setEnvValue(`  export   ${NAME} = old\n`, NAME, token)).toBe(`  export   ${NAME} = ${token}\n`);
  });

  test("a quoted old value is replaced by the unquoted token", () => {
    const token = fakeToken();
    expect(setEnvValue(`${NAME}="old value"\n`, NAME, token)).toBe(`${NAME}=${token}\n`);
    expect(setEnvValue(`${NAME}='old'\n`, NAME, token)).toBe(`${NAME}=${token}\n`);
    expect(setEnvValue(`${NAME}="old" # note\n`, NAME, token)).toBe(`${NAME}=${token} # note\n`);
  });

  test("a value with spaces, # or $ is quoted so compose reads it back verbatim", () => {
    for (const value of ["two words", "a#b", "cost$HOME", "tab\there"]) {
      const text = setEnvValue("", "X", value);
      expect(text).not.toBe(`X=${value}\n`);
      expect(readEnvValue(text, "X")).toBe(value);
    }
    expect(quoteIfNeeded("cost$HOME")).toBe("'cost$HOME'");
    expect(quoteIfNeeded("it's $x")).toBe('"it\'s \\$x"');
    expect(quoteIfNeeded(fakeToken())).not.toMatch(/^['"]/);
  });

  test("an inline comment after an unquoted value is kept", () => {
    const token = fakeToken();
    expect(setEnvValue(`${NAME}=old # rotated by oauth-sync\n`, NAME, token)).toBe(`${NAME}=${token} # rotated by oauth-sync\n`);
    expect(setEnvValue(`${NAME}=old\t# tab comment\n`, NAME, token)).toBe(`${NAME}=${token}\t# tab comment\n`);
  });

  test("every assignment of the variable is updated, none left with the old value", () => {
    const token = fakeToken();
    const after = setEnvValue(`${NAME}=first\nTZ=UTC\nexport ${NAME}=second\n`, NAME, token);
    expect(after).toBe(`${NAME}=${token}\nTZ=UTC\nexport ${NAME}=${token}\n`);
  });

  test("variables sharing the prefix or suffix, and commented-out assignments, are untouched", () => {
    const token = fakeToken();
    const before = `${NAME}_OLD=keep1\nMY_${NAME}=keep2\n# ${NAME}=keep3\n#${NAME}=keep4\n${NAME}=old\n`;
    expect(setEnvValue(before, NAME, token)).toBe(`${NAME}_OLD=keep1\nMY_${NAME}=keep2\n# ${NAME}=keep3\n#${NAME}=keep4\n${NAME}=${token}\n`);
  });
});

describe("readEnvValue", () => {
  test("unquoted, quoted, exported, commented and last-wins values", () => {
    expect(readEnvValue(`${NAME}=abc\n`, NAME)).toBe("abc");
    expect(readEnvValue(`${NAME}="a b" # c\n`, NAME)).toBe("a b");
    expect(readEnvValue(`${NAME}='a$b'\n`, NAME)).toBe("a$b");
    expect(readEnvValue(`export ${NAME}=abc # comment\r\n`, NAME)).toBe("abc");
    expect(readEnvValue(`${NAME}=first\n${NAME}=second\n`, NAME)).toBe("second");
    expect(readEnvValue(`${NAME}_OLD=x\n# ${NAME}=y\n`, NAME)).toBeUndefined();
    expect(readEnvValue(`${NAME}=\n`, NAME)).toBe("");
  });
});

describe("planEnvFile", () => {
  test("reports the token held and plans the new text", () => {
    const old = fakeToken();
    const c = credentials();
    const plan = planEnvFile(`TZ=UTC\n${NAME}=${old}\n`, c, options);
    expect(plan).toEqual({ ok: true, held: { token: old }, next: `TZ=UTC\n${NAME}=${c.accessToken}\n` });
  });

  test("an empty value or a missing file holds nothing", () => {
    const c = credentials();
    expect(planEnvFile(`${NAME}=\n`, c, options)).toEqual({ ok: true, held: undefined, next: `${NAME}=${c.accessToken}\n` });
    expect(planEnvFile(undefined, c, options)).toEqual({ ok: true, held: undefined, next: `${NAME}=${c.accessToken}\n` });
  });

  test("the same token: next is the original text", () => {
    const c = credentials();
    const text = `# keep\r\nexport ${NAME}=${c.accessToken} # note\r\nTZ=UTC`;
    const plan = planEnvFile(text, c, options);
    expect(plan).toEqual({ ok: true, held: { token: c.accessToken }, next: text });
  });

  test("another variable name", () => {
    const c = credentials();
    const plan = planEnvFile(`${NAME}=keep\n`, c, { ...options, variable: "CLAUDE_TOKEN" });
    expect(plan).toMatchObject({ ok: true, next: `${NAME}=keep\nCLAUDE_TOKEN=${c.accessToken}\n` });
  });
});

describe("edge cases of compose's .env syntax", () => {
  test("`NAME= # comment` is an empty value with a comment; the comment survives the write", () => {
    const token = fakeToken();
    expect(readEnvValue(`${NAME}= # set by oauth-sync\n`, NAME)).toBe("");
    expect(setEnvValue(`${NAME}= # set by oauth-sync\n`, NAME, token)).toBe(`${NAME}=${token} # set by oauth-sync\n`);
  });

  test("an escaped quote inside double quotes does not end the value", () => {
    expect(readEnvValue(`${NAME}="a\\"b" # note\n`, NAME)).toBe('a"b');
    expect(setEnvValue(`${NAME}="a\\"b" # note\n`, NAME, "tok")).toBe(`${NAME}=tok # note\n`);
  });
});
