/**
 * Compose's variable interpolation, for machines without docker (where docker is present, `docker compose config`
 * does it: see compose-resolve.ts). Follows the compose specification: `$NAME`, `${NAME}`, `${NAME:-default}`,
 * `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, `${NAME:+alternative}`, `${NAME+alternative}`, defaults and
 * alternatives nested to any depth (`${A:-${B:-x}}`), and `$$` for a literal `$`. Pure.
 */

export type Lookup = (name: string) => string | undefined;

export interface Interpolated {
  value: string;
  /** `${NAME:?message}` with NAME unset (or empty), as compose reports it; compose itself refuses such a file. */
  errors: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export function interpolate(text: string, lookup: Lookup): Interpolated {
  const errors: string[] = [];
  const value = expand(text, lookup, errors).replaceAll(LITERAL_DOLLAR, "$");
  return { value, errors };
}

/** `$$` becomes this until the end, so that a variable's value holding `$$` is left as it is. */
const LITERAL_DOLLAR = "\u0000";

function expand(text: string, lookup: Lookup, errors: string[]): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += LITERAL_DOLLAR;
      i += 2;
      continue;
    }
    if (next === "{") {
      const close = matchingBrace(text, i + 1);
      if (close < 0) {
        errors.push(`invalid interpolation format: unclosed \${ in "${text}"`);
        return out + text.slice(i);
      }
      out += braced(text.slice(i + 2, close), lookup, errors);
      i = close + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (name) {
      out += lookup(name) ?? "";
      i += 1 + name.length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** The index of the `}` closing the `{` at `open`, counting nested `${`. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "$" && text[i + 1] === "$") {
      i++;
      continue;
    }
    if (text[i] === "{" && text[i - 1] === "$") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

function braced(inner: string, lookup: Lookup, errors: string[]): string {
  const name = NAME.exec(inner)?.[0];
  if (!name) {
    errors.push(`invalid interpolation format: "\${${inner}}"`);
    return "";
  }
  const rest = inner.slice(name.length);
  const value = lookup(name);
  if (rest === "") return value ?? "";
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) {
    errors.push(`invalid interpolation format: "\${${inner}}"`);
    return "";
  }
  const arg = () => expand(rest.slice(op.length), lookup, errors);
  const set = op.startsWith(":") ? value !== undefined && value !== "" : value !== undefined;
  switch (op.replace(":", "")) {
    case "-":
      return set ? value! : arg();
    case "+":
      return set ? arg() : "";
    default:
      if (!set) errors.push(`required variable ${name} is missing a value${rest.length > op.length ? `: ${arg()}` : ""}`);
      return value ?? "";
  }
}

/**
 * Pure: a compose `.env` file as compose reads it: `export` prefixes, comments, single quotes (literal), double
 * quotes (escapes, interpolation), unquoted values (inline ` #` comments, interpolation against earlier lines and
 * `outer`). Later assignments win.
 */
export function parseDotenv(text: string, outer: Lookup = () => undefined): Map<string, string> {
  const vars = new Map<string, string>();
  const lookup: Lookup = (name) => vars.get(name) ?? outer(name);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*export\s+/, "").trimStart();
    if (!line || line.startsWith("#")) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, key, rest] = match as unknown as [string, string, string];
    let value: string;
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      value = rest.slice(1, end < 0 ? undefined : end);
    } else if (rest.startsWith('"')) {
      const end = /(?<!\\)"/.exec(rest.slice(1));
      const body = rest.slice(1, end ? end.index + 1 : undefined).replace(/\\(["\\nrt])/g, (_, e: string) => ({ n: "\n", r: "\r", t: "\t" })[e] ?? e);
      value = interpolate(body, lookup).value;
    } else {
      value = interpolate(rest.replace(/\s+#.*$/, "").trim(), lookup).value;
    }
    vars.set(key, value);
  }
  return vars;
}
