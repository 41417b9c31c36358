import type { ClaudeCredentials } from "../credentials/parse.ts";
import type { FilePlan } from "./types.ts";

interface Options {
  path: string;
  variable: string;
}

/** Pure: a compose .env with `variable` set to the access token; every other line, comment and the line ends kept. */
export function planEnvFile(text: string | undefined, credentials: ClaudeCredentials, options: Options): FilePlan {
  // The token's shape is checked where it is read; a line break here would still add variables to the file.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(credentials.accessToken)) return { ok: false, error: `${options.path}: the token holds a control character: not written` };
  const current = text ?? "";
  const held = readEnvValue(current, options.variable);
  return { ok: true, held: held ? { token: held } : undefined, next: setEnvValue(current, options.variable, credentials.accessToken) };
}

const assignment = (name: string) => new RegExp(`^(\\s*(?:export\\s+)?${name}\\s*=\\s*)(.*)$`);

export function readEnvValue(text: string, name: string): string | undefined {
  let value: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const match = assignment(name).exec(line);
    if (match) value = unquote(match[2] ?? ""); // compose: the last assignment wins
  }
  return value;
}

/** Replaces every assignment of `name` (so none is left behind with an old value), or appends one. */
export function setEnvValue(text: string, name: string, value: string): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r?\n/);
  let found = false;
  const updated = lines.map((line) => {
    const match = assignment(name).exec(line);
    if (!match) return line;
    found = true;
    const prefix = match[2]?.startsWith("#") ? match[1]!.trimEnd() : match[1]; // `NAME= # comment` had no value
    return `${prefix}${quoteIfNeeded(value)}${trailingComment(match[2] ?? "")}`;
  });
  if (found) return updated.join(eol);
  const body = text === "" || text.endsWith("\n") ? text : text + eol;
  return `${body}${name}=${quoteIfNeeded(value)}${eol}`;
}

export function quoteIfNeeded(value: string): string {
  if (/^[A-Za-z0-9_\-./:+=@,]*$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

function unquote(raw: string): string {
  const value = raw.trim();
  const quote = value[0];
  if (quote === "'" || quote === '"') {
    const end = closingQuote(value);
    const inner = end > 0 ? value.slice(1, end) : value.slice(1);
    return quote === '"' ? inner.replace(/\\(.)/g, "$1") : inner;
  }
  if (value.startsWith("#")) return ""; // `NAME= # comment`: an empty value and a comment
  return value.replace(/\s+#.*$/, "");
}

/** Index of the quote that closes value[0]; inside double quotes a backslash escapes the next character. */
function closingQuote(value: string): number {
  const quote = value[0];
  for (let i = 1; i < value.length; i++) {
    if (quote === '"' && value[i] === "\\") i++;
    else if (value[i] === quote) return i;
  }
  return -1;
}

/** An unquoted value may carry ` # comment` after it; keep that comment. */
function trailingComment(raw: string): string {
  const value = raw.trimStart();
  if (value.startsWith("#")) return ` ${value}`;
  if (value.startsWith("'") || value.startsWith('"')) {
    const end = closingQuote(value);
    const rest = end > 0 ? value.slice(end + 1) : "";
    return /^\s+#/.test(rest) ? rest : "";
  }
  const comment = /\s+#.*$/.exec(value);
  return comment ? comment[0] : "";
}
