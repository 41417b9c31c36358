/**
 * Compose's variable interpolation, for machines without docker (where docker is present, `docker compose config`
 * does it: see compose-resolve.ts). Follows the compose specification: `$NAME`, `${NAME}`, `${NAME:-default}`,
 * `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, `${NAME:+alternative}`, `${NAME+alternative}`, defaults and
 * alternatives nested (`${A:-${B:-x}}`, up to MAX_DEPTH levels), and `$$` for a literal `$`. Pure.
 */

export type Lookup = (name: string) => string | undefined;

export interface Interpolated {
  value: string;
  /** `${NAME:?message}` with NAME unset (or empty), as compose reports it; compose itself refuses such a file. */
  errors: string[];
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * Bounds: the files are a user's, read by root. One pass over the text (each character looked at once, however deep
 * the nesting), nesting at most MAX_DEPTH levels, a value at most MAX_VALUE long once interpolated, and a whole
 * `.env` at most MAX_TOTAL of values. Past a bound the text is refused with the reason (InterpolationBound).
 */
export const MAX_DEPTH = 32;
export const MAX_VALUE = 64 * 1024;
export const MAX_TOTAL = 16 * 1024 * 1024;

export class InterpolationBound extends Error {}

export function interpolate(text: string, lookup: Lookup): Interpolated {
  const errors: string[] = [];
  const parser = new Parser(text, lookup, errors);
  const value = parser.sequence(0, false, true);
  if (parser.unclosed) errors.push(`invalid interpolation format: unclosed \${ in "${preview(text)}"`);
  return { value: value.replaceAll(LITERAL_DOLLAR, "$"), errors };
}

/** `$$` becomes this until the end, so that a variable's value holding `$$` is left as it is. */
const LITERAL_DOLLAR = "\u0000";

const preview = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}…` : text);

/** Recursive descent over one string; `active` is false inside a branch not taken (parsed for its end, not evaluated). */
class Parser {
  i = 0;
  unclosed = false;
  constructor(
    readonly text: string,
    readonly lookup: Lookup,
    readonly errors: string[],
  ) {}

  /** Text up to the end, or (inBraces) up to the `}` that closes the current `${`, which is consumed. */
  sequence(depth: number, inBraces: boolean, active: boolean): string {
    let out = "";
    const add = (piece: string) => {
      if (!active) return;
      out += piece;
      if (out.length > MAX_VALUE) throw new InterpolationBound(`a value longer than ${MAX_VALUE / 1024} KiB once interpolated ("${preview(this.text)}"): refused`);
    };
    const { text } = this;
    while (this.i < text.length) {
      const c = text[this.i]!;
      if (inBraces && c === "}") {
        this.i++;
        return out;
      }
      if (c !== "$") {
        // Copy the run of plain characters at once.
        let j = this.i + 1;
        while (j < text.length && text[j] !== "$" && !(inBraces && text[j] === "}")) j++;
        add(text.slice(this.i, j));
        this.i = j;
        continue;
      }
      const next = text[this.i + 1];
      if (next === "$") {
        add(LITERAL_DOLLAR);
        this.i += 2;
        continue;
      }
      if (next === "{") {
        this.i += 2;
        add(this.braced(depth + 1, active));
        continue;
      }
      NAME.lastIndex = this.i + 1;
      const name = NAME.exec(text)?.[0];
      if (name) {
        add(this.lookup(name) ?? "");
        this.i += 1 + name.length;
        continue;
      }
      add(c);
      this.i++;
    }
    if (inBraces) this.unclosed = true;
    return out;
  }

  /** A `${…}` compose would reject: skipped to its `}` (never evaluated), reported where it counts. */
  invalid(name: string, depth: number, active: boolean): string {
    const start = this.i;
    this.sequence(depth, true, false);
    if (active) this.errors.push(`invalid interpolation format: "\${${name}${preview(this.text.slice(start, this.i - 1))}}"`);
    return "";
  }

  /** After `${`: NAME, then `}` or an operator and its word (itself interpolated, to the matching `}`). */
  braced(depth: number, active: boolean): string {
    if (depth > MAX_DEPTH) throw new InterpolationBound(`\${…} nested deeper than ${MAX_DEPTH} levels ("${preview(this.text)}"): refused`);
    const { text } = this;
    NAME.lastIndex = this.i;
    const name = NAME.exec(text)?.[0];
    if (!name) return this.invalid("", depth, active);
    this.i += name.length;
    const value = active ? this.lookup(name) : undefined;
    if (text[this.i] === "}") {
      this.i++;
      return value ?? "";
    }
    const op = /:?[-?+]/y;
    op.lastIndex = this.i;
    const found = op.exec(text)?.[0];
    if (!found) return this.invalid(name, depth, active);
    this.i += found.length;
    const set = found.startsWith(":") ? value !== undefined && value !== "" : value !== undefined;
    switch (found.replace(":", "")) {
      case "-": {
        const word = this.sequence(depth, true, active && !set);
        return set ? value! : word;
      }
      case "+": {
        const word = this.sequence(depth, true, active && set);
        return set ? word : "";
      }
      default: {
        const word = this.sequence(depth, true, active && !set);
        if (active && !set) this.errors.push(`required variable ${name} is missing a value${word ? `: ${word}` : ""}`);
        return value ?? "";
      }
    }
  }
}

/**
 * Pure: a compose `.env` file as compose reads it: `export` prefixes, comments, single quotes (literal), double
 * quotes (escapes, interpolation), unquoted values (inline ` #` comments, interpolation against earlier lines and
 * `outer`). Later assignments win.
 */
export function parseDotenv(text: string, outer: Lookup = () => undefined): Map<string, string> {
  const vars = new Map<string, string>();
  let total = 0;
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
    total += value.length;
    if (total > MAX_TOTAL) throw new InterpolationBound(`its values add up to more than ${MAX_TOTAL / 1024 / 1024} MiB once interpolated: refused`);
    vars.set(key, value);
  }
  return vars;
}
