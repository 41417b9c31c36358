import { redact } from "./redact.ts";

/**
 * Every text oauth-sync shows or sends passes here once, at its edge: a log line (terminal or journal), program
 * output (`status`, `install`), and each webhook format. Much of it quotes programs and files we do not own (a
 * gateway's log tail, an owner child's answer, `openclaw`/`docker`/`systemctl` output, agent directory names,
 * paths), so an ESC, an OSC 52 clipboard write, a carriage return, an embedded newline or a chat mention in it must
 * reach a person as visible text, never as an effect. Secrets are redacted first (docs/SECURITY.md).
 */

/**
 * What steers a terminal, a log or a reader: C0 controls, DEL, C1 controls (0x9b is a one-byte CSI to some
 * terminals), the Unicode line and paragraph separators, and the bidirectional controls that reorder what is seen.
 */
// eslint-disable-next-line no-control-regex
const STEERING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const STEERING_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * One event's line is cut here: journald splits a longer line (LineMax, 48 KiB) into entries, and the second would
 * start with whatever the quoted text put there. 8000 characters stay under it even at 4 bytes each.
 */
export const MAX_LINE = 8000;

/** The visible form of one steering character: `\n`, `\r`, `\t`, `\x1b`, `\x9b`, `\u202e`. */
function visible(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[${text.length - max} more characters]`;
}

/**
 * A log line, at a terminal (before consola colours it) or in the journal: secrets redacted, every steering
 * character visible, an embedded newline included, so one event is one line and one journal entry.
 */
export function logLine(text: string): string {
  return cut(redact(text).replace(STEERING, visible), MAX_LINE);
}

/** One line of program output (a `status` line, an install detection line): the same rules as a log line. */
export const outputLine = logLine;

/**
 * Program output of several lines that oauth-sync composed itself (a config, a unit, help): its newlines are kept,
 * every other steering character is made visible and secrets are redacted. A line that may quote someone else's
 * text goes through `outputLine`, so a newline in it cannot start a line of its own.
 */
export function outputText(text: string): string {
  return redact(text).replace(STEERING_BUT_NEWLINE, visible);
}

/** Slack's mrkdwn: `&`, `<` and `>` are its only markup that must be escaped (`<!channel>`, `<url|label>`). */
function escapeAngles(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Slack: one line, `&`, `<`, `>` escaped as Slack documents, so no mention, link or date token can form. */
export function slackText(text: string): string {
  return escapeAngles(logLine(text));
}

/**
 * Mattermost (Markdown): `&`, `<`, `>` escaped as for Slack; Markdown's punctuation backslash-escaped so no link
 * `[label](url)`, image or emphasis forms; an `@` followed by a word joiner so no `@channel`/`@all`/`@user` mention.
 */
export function mattermostText(text: string): string {
  return escapeAngles(logLine(text))
    .replace(/[\\`*_{}[\]()#+!|~]/g, (c) => `\\${c}`)
    .replace(/@/g, "@\u2060");
}

/** Discord's message limit (characters of `content`). */
const DISCORD_MAX = 2000;

/**
 * Discord: the title as Markdown with its punctuation escaped, the text in a code block (no Markdown, link or
 * mention renders there) whose backticks are replaced by a look-alike so it cannot be closed early. The request
 * also sets `allowed_mentions` to none (see format.ts): nothing pings, whatever the text says.
 */
export function discordContent(title: string, text: string): string {
  const head = `**${logLine(title).replace(/[\\`*_~|>[\]()#@<]/g, (c) => `\\${c}`)}**\n\`\`\`\n`;
  const foot = "\n```";
  const body = logLine(text).replace(/`/g, "\u02cb");
  const room = DISCORD_MAX - head.length - foot.length;
  return `${head}${body.length > room ? `${body.slice(0, room - 1)}…` : body}${foot}`;
}

/** ntfy: a plain-text body (ntfy renders Markdown only when asked to), one line. */
export const ntfyText = logLine;

/** An HTTP header carries Latin-1 only: the title as printable ASCII. */
export function ntfyTitle(text: string): string {
  return logLine(text).replace(/[^\x20-\x7e]/g, "?");
}

/**
 * The generic JSON form (a webhook's body, `status --json`): the receiver gets the text itself, escaped by JSON.
 * JSON.stringify leaves DEL, the C1 controls, U+2028/U+2029 and the bidirectional controls raw (valid JSON, but not
 * in a JavaScript string, a naive log or a terminal): written as `\uXXXX` too, the same values either way. (Made
 * visible the way a log line is, `\x7f`, they would be escapes JSON does not have.)
 */
export function jsonBody(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "string" ? redact(v) : v), indent).replace(
    /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
