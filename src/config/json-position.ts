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

/** The reader stops at the first problem: thrown from any depth, caught once by scanJson. */
function stop(offset: number, message: string): never {
  throw new Stop(offset, message);
}

/**
 * Pure: the text read once, each step below from an offset to the offset after what it read (recording the places it
 * passes); the first problem ends the reading, wherever it is found.
 */
export function scanJson(text: string): JsonScan {
  const doc: Doc = { text, places: { values: new Map(), keys: new Map() } };
  try {
    readDocument(doc);
    return { ok: true, places: doc.places };
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { ok: false, problem: { ...lineColumn(text, error.offset), message: error.message } };
  }
}

/** The text being read, and the places of its values and keys as they are found. */
interface Doc {
  text: string;
  places: JsonPlaces;
}

/** The object or list the reader is inside (the innermost), and how many are open: what a file that ends early is missing. */
interface Open {
  close: "}" | "]";
  offset: number;
  depth: number;
}

/** One value, and nothing after it but space. */
function readDocument(doc: Doc): void {
  const { text } = doc;
  const start = skipSpace(text, 0);
  if (start >= text.length) stop(start, "the file is empty: it should hold a JSON object");
  const end = skipSpace(text, readValue(doc, start, "", undefined));
  if (end < text.length) stop(end, `unexpected ${describe(text, end)} after the end of the JSON object`);
}

/** One value, its place recorded under `path`. */
function readValue(doc: Doc, at: number, path: string, inside: Open | undefined): number {
  const { text } = doc;
  at = skipSpace(text, at);
  doc.places.values.set(path, at);
  const c = text[at];
  const depth = (inside?.depth ?? 0) + 1;
  if ((c === "{" || c === "[") && depth > MAX_DEPTH) stop(at, `nested more than ${MAX_DEPTH} levels deep`);
  if (c === "{") return readObject(doc, at, path, { close: "}", offset: at, depth });
  if (c === "[") return readArray(doc, at, path, { close: "]", offset: at, depth });
  if (c === '"' || c === "'") return readString(text, at).end;
  if (c === undefined) endsEarly(text, at, inside);
  return readLiteral(text, at);
}

function readObject(doc: Doc, at: number, path: string, inside: Open): number {
  at = skipSpace(doc.text, at + 1);
  if (doc.text[at] === "}") return at + 1;
  for (;;) {
    const member = readKey(doc, at, path, inside);
    const end = readValue(doc, member.end, childPath(path, member.key), inside);
    const after = afterMember(doc.text, end, inside, '"', "key");
    if (after.closed) return after.end;
    at = after.end;
  }
}

function readArray(doc: Doc, at: number, path: string, inside: Open): number {
  at = skipSpace(doc.text, at + 1);
  if (doc.text[at] === "]") return at + 1;
  for (let i = 0; ; i++) {
    const end = readValue(doc, at, childPath(path, i), inside);
    const after = afterMember(doc.text, end, inside, '{"[', "entry");
    if (after.closed) return after.end;
    at = after.end;
  }
}

/** A member's key in double quotes, its place recorded, and the colon after it: the key, and the offset after the colon. */
function readKey(doc: Doc, at: number, path: string, inside: Open): { key: string; end: number } {
  const { text } = doc;
  at = skipSpace(text, at);
  const c = text[at];
  if (c === undefined) endsEarly(text, at, inside);
  if (c === "'") stop(at, "a single-quoted key: JSON keys take double quotes");
  if (c !== '"') {
    const word = matchAt(WORD, text, at);
    stop(at, word ? `the key ${word} needs double quotes: "${word}"` : `unexpected ${describe(text, at)} where a key in double quotes should be`);
  }
  const { value: key, end } = readString(text, at);
  doc.places.keys.set(childPath(path, key), at);
  const colon = skipSpace(text, end);
  if (text[colon] === undefined) endsEarly(text, colon, inside);
  if (text[colon] !== ":") stop(colon, `a : is missing after the key "${key}"`);
  return { key, end: colon + 1 };
}

/**
 * After a member or an entry: the closing bracket (closed), or a comma and more to come. `starts` are the characters
 * that begin another member, which a missing comma leaves right here.
 */
function afterMember(text: string, at: number, inside: Open, starts: string, what: string): { closed: boolean; end: number } {
  at = skipSpace(text, at);
  const next = text[at];
  if (next === inside.close) return { closed: true, end: at + 1 };
  if (next === ",") {
    const more = skipSpace(text, at + 1);
    if (text[more] === inside.close) stop(at, `a comma before ${inside.close} (a trailing comma): remove it`);
    return { closed: false, end: more };
  }
  if (next === undefined) endsEarly(text, at, inside);
  return stop(at, starts.includes(next) ? `a comma is missing before this ${what}` : `unexpected ${describe(text, at)}: a comma or ${inside.close} should be here`);
}

/** A string from its opening quote: what it holds, and the offset after its closing quote. */
function readString(text: string, at: number): { value: string; end: number } {
  const start = at;
  if (text[at] === "'") stop(at, "a single-quoted string: JSON strings take double quotes");
  let value = "";
  for (at++; ; ) {
    const c = text[at];
    if (c === undefined || c === "\n") stop(start, 'this string is not closed: a " is missing');
    if (c === '"') return { value, end: at + 1 };
    if (c === "\\") {
      const escape = readEscape(text, at);
      value += escape.char;
      at = escape.end;
      continue;
    }
    if (c < " ") stop(at, "a control character (a tab…) inside a string: write it escaped (\\t)");
    value += c;
    at++;
  }
}

/** The escape at a backslash: `\u` decoded, any other kept as the letter after the backslash (a key's `\n` is `n` here). */
function readEscape(text: string, at: number): { char: string; end: number } {
  const e = text[at + 1];
  if (e === "u") {
    const hex = text.slice(at + 2, at + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) stop(at, "\\u needs four hex digits");
    return { char: String.fromCharCode(Number.parseInt(hex, 16)), end: at + 6 };
  }
  if (e === undefined || !'"\\/bfnrt'.includes(e)) stop(at, `an unknown escape \\${e ?? ""}: write \\\\ for a backslash`);
  return { char: e, end: at + 2 };
}

/** true, false, null or a number; a bare word is named with its fix (double quotes). */
function readLiteral(text: string, at: number): number {
  const literal = matchAt(LITERAL, text, at);
  if (literal) {
    const end = at + literal.length;
    if (/[A-Za-z0-9_.]/.test(text[end] ?? "")) stop(end, `unexpected ${describe(text, end)} after ${literal}`);
    return end;
  }
  const word = matchAt(WORD, text, at);
  if (word) stop(at, `${JSON.stringify(word)} is not a JSON value: a string needs double quotes ("${word}")`);
  return stop(at, `unexpected ${describe(text, at)} where a value should be`);
}

/** Spaces, tabs and line ends; a comment is refused (JSON has none). */
function skipSpace(text: string, at: number): number {
  while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  if (text.startsWith("//", at) || text.startsWith("/*", at)) stop(at, "a comment: JSON has none, remove it");
  return at;
}

function endsEarly(text: string, at: number, inside: Open | undefined): never {
  if (!inside) return stop(at, "the file ends where a value should be");
  return stop(at, `the file ends inside the ${inside.close === "}" ? "object" : "list"} opened at line ${lineColumn(text, inside.offset).line}: a ${inside.close} is missing`);
}

function describe(text: string, offset: number): string {
  const c = text[offset];
  if (c === undefined) return "the end of the file";
  if (c === "'") return "a single quote (JSON strings take double quotes)";
  return JSON.stringify(c);
}
