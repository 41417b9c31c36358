/**
 * A strict JSON reader that knows where things are: the first syntax problem as line, column and the fix, or, for
 * valid JSON, where each value and key stands (so a schema error can point at its line too). JSON.parse still makes
 * the value; this only finds places. Pure.
 */

export interface JsonProblem {
  line: number;
  column: number;
  message: string;
}

/** Path → offset, paths written as in error lines: `targets[0].kind`, "" for the whole document. */
export interface JsonPlaces {
  values: Map<string, number>;
  keys: Map<string, number>;
}

export type JsonScan = { ok: true; places: JsonPlaces } | { ok: false; problem: JsonProblem };

/** Pure: 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

export const childPath = (path: string, key: string | number) => (typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key);

const LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_$][\w$-]*/y;
/** Deeper than any config: a file nested further is refused rather than run out of stack. */
const MAX_DEPTH = 256;

/** A sticky pattern's match at an offset, without copying the rest of the text. */
const matchAt = (pattern: RegExp, text: string, offset: number) => {
  pattern.lastIndex = offset;
  return pattern.exec(text)?.[0];
};

class Stop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export function scanJson(text: string): JsonScan {
  const places: JsonPlaces = { values: new Map(), keys: new Map() };
  let at = 0;
  const peek = () => text[at];
  const stop = (message: string, offset = at): never => {
    throw new Stop(offset, message);
  };

  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
    if (text.startsWith("//", at) || text.startsWith("/*", at)) stop("a comment: JSON has none, remove it");
  };

  const describe = (offset: number): string => {
    const c = text[offset];
    if (c === undefined) return "the end of the file";
    if (c === "'") return "a single quote (JSON strings take double quotes)";
    return JSON.stringify(c);
  };

  const string = (): string => {
    const start = at;
    if (peek() === "'") stop("a single-quoted string: JSON strings take double quotes");
    at++;
    let out = "";
    for (;;) {
      const c = text[at];
      if (c === undefined || c === "\n") stop("this string is not closed: a \" is missing", start);
      if (c === '"') {
        at++;
        return out;
      }
      if (c === "\\") {
        const e = text[at + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) stop("\\u needs four hex digits");
          out += String.fromCharCode(Number.parseInt(text.slice(at + 2, at + 6), 16));
          at += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) stop(`an unknown escape \\${e ?? ""}: write \\\\ for a backslash`);
        out += e;
        at += 2;
        continue;
      }
      if (c! < " ") stop("a control character (a tab…) inside a string: write it escaped (\\t)");
      out += c;
      at++;
    }
  };

  let depth = 0;
  /** The objects and lists open around the reader, innermost last: what a file that ends early is missing. */
  const open: { close: "}" | "]"; offset: number }[] = [];
  const endsEarly = (): never => {
    const inner = open.at(-1);
    if (!inner) return stop("the file ends where a value should be");
    return stop(`the file ends inside the ${inner.close === "}" ? "object" : "list"} opened at line ${lineColumn(text, inner.offset).line}: a ${inner.close} is missing`);
  };
  const value = (path: string): void => {
    space();
    places.values.set(path, at);
    const c = peek();
    if ((c === "{" || c === "[") && ++depth > MAX_DEPTH) stop(`nested more than ${MAX_DEPTH} levels deep`);
    if (c === "{") return void (object(path), depth--);
    if (c === "[") return void (array(path), depth--);
    if (c === '"' || c === "'") return void string();
    if (c === undefined) endsEarly();
    const literal = matchAt(LITERAL, text, at);
    if (literal) {
      at += literal.length;
      if (/[A-Za-z0-9_.]/.test(text[at] ?? "")) stop(`unexpected ${describe(at)} after ${literal}`);
      return;
    }
    const word = matchAt(WORD, text, at);
    if (word) stop(`${JSON.stringify(word)} is not a JSON value: a string needs double quotes ("${word}")`);
    stop(`unexpected ${describe(at)} where a value should be`);
  };

  /**
   * After a member or an entry: its closing bracket (true), or a comma and more to come (false). `starts` are the
   * characters that begin another member, which a missing comma leaves right here.
   */
  const closed = (close: "}" | "]", starts: string, what: string): boolean => {
    space();
    const next = peek();
    if (next === close) {
      at++;
      open.pop();
      return true;
    }
    if (next === ",") {
      const comma = at;
      at++;
      space();
      if (peek() === close) stop(`a comma before ${close} (a trailing comma): remove it`, comma);
      return false;
    }
    if (next === undefined) endsEarly();
    return stop(starts.includes(next!) ? `a comma is missing before this ${what}` : `unexpected ${describe(at)}: a comma or ${close} should be here`);
  };

  const object = (path: string): void => {
    open.push({ close: "}", offset: at });
    at++;
    space();
    if (peek() === "}") return void (at++, open.pop());
    for (;;) {
      space();
      const c = peek();
      if (c === undefined) endsEarly();
      if (c !== '"') {
        if (c === "'") stop("a single-quoted key: JSON keys take double quotes");
        const word = matchAt(WORD, text, at);
        stop(word ? `the key ${word} needs double quotes: "${word}"` : `unexpected ${describe(at)} where a key in double quotes should be`);
      }
      const keyAt = at;
      const key = string();
      places.keys.set(childPath(path, key), keyAt);
      space();
      if (peek() === undefined) endsEarly();
      if (peek() !== ":") stop(`a : is missing after the key "${key}"`);
      at++;
      value(childPath(path, key));
      if (closed("}", '"', "key")) return;
    }
  };

  const array = (path: string): void => {
    open.push({ close: "]", offset: at });
    at++;
    space();
    if (peek() === "]") return void (at++, open.pop());
    for (let i = 0; ; i++) {
      value(childPath(path, i));
      if (closed("]", '{"[', "entry")) return;
    }
  };

  try {
    space();
    if (at >= text.length) stop("the file is empty: it should hold a JSON object");
    value("");
    space();
    if (at < text.length) stop(`unexpected ${describe(at)} after the end of the JSON object`);
    return { ok: true, places };
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { ok: false, problem: { ...lineColumn(text, error.offset), message: error.message } };
  }
}
