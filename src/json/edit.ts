/**
 * Minimal, comment-keeping edits of a JSON5 (or JSON) text: the spans of every object member are found by a small
 * scanner, and a value is replaced, a member inserted or removed by splicing the text. The caller checks the result
 * parses to what it wanted, and falls back to a rewrite when it does not.
 */

interface Member {
  keyStart: number;
  valueStart: number;
  valueEnd: number;
  /** After the member's comma, where it has one. */
  end: number;
  hasComma: boolean;
}

interface Spans {
  members: Map<string, Member>;
  /** Where each object's `{` is, and whether it has members. */
  objects: Map<string, { open: number; empty: boolean; indent?: string }>;
}

const key = (path: string[]) => JSON.stringify(path);

export function scan(text: string): Spans {
  const members = new Map<string, Member>();
  const objects = new Map<string, { open: number; empty: boolean; indent?: string }>();
  let i = 0;
  const fail = (): never => {
    throw new Error(`unexpected ${JSON.stringify(text[i] ?? "end")} at ${i}`);
  };
  const skip = () => {
    for (;;) {
      if (/\s/.test(text[i] ?? "")) i++;
      else if (text.startsWith("//", i)) i = text.includes("\n", i) ? text.indexOf("\n", i) : text.length;
      else if (text.startsWith("/*", i)) i = text.indexOf("*/", i) < 0 ? fail() : text.indexOf("*/", i) + 2;
      else return;
    }
  };
  const string = (): string => {
    const start = i;
    const quote = text[i++];
    while (text[i] !== quote) {
      if (i >= text.length) fail();
      i += text[i] === "\\" ? 2 : 1;
    }
    i++;
    return Bun.JSON5.parse(text.slice(start, i)) as string;
  };
  const value = (path: string[]) => {
    skip();
    const c = text[i];
    if (c === "{") return object(path);
    if (c === "[") {
      i++;
      for (let n = 0; ; n++) {
        skip();
        if (text[i] === "]") return void i++;
        const valueStart = i;
        value([...path, String(n)]);
        const valueEnd = i;
        skip();
        const hasComma = text[i] === ",";
        // An element is a member without a key: its value can be replaced in place like any other.
        members.set(key([...path, String(n)]), { keyStart: valueStart, valueStart, valueEnd, end: hasComma ? i + 1 : valueEnd, hasComma });
        if (hasComma) i++;
        else if (text[i] !== "]") fail();
      }
    }
    if (c === '"' || c === "'") return void string();
    const literal = /^[^\s,\]}/]+/.exec(text.slice(i))?.[0] ?? fail();
    i += literal.length;
  };
  const object = (path: string[]) => {
    const open = i++;
    const info: { open: number; empty: boolean; indent?: string } = { open, empty: true };
    objects.set(key(path), info);
    for (;;) {
      skip();
      if (text[i] === "}") return void i++;
      const keyStart = i;
      const name = text[i] === '"' || text[i] === "'" ? string() : (/^[A-Za-z_$][\w$]*/.exec(text.slice(i))?.[0] ?? fail());
      if (text[keyStart] !== '"' && text[keyStart] !== "'") i += name.length;
      if (info.empty) info.indent = /[ \t]*$/.exec(text.slice(text.lastIndexOf("\n", keyStart) + 1, keyStart))?.[0];
      info.empty = false;
      skip();
      if (text[i++] !== ":") fail();
      skip();
      const valueStart = i;
      value([...path, name]);
      const valueEnd = i;
      skip();
      const hasComma = text[i] === ",";
      if (hasComma) i++;
      members.set(key([...path, name]), { keyStart, valueStart, valueEnd, end: hasComma ? i : valueEnd, hasComma });
      if (!hasComma) {
        skip();
        if (text[i] !== "}") fail();
      }
    }
  };
  value([]);
  return { members, objects };
}

/** The text with the value at `path` set: replaced where it exists, else inserted into the deepest object there is. */
export function setValue(text: string, path: string[], next: unknown): string {
  const spans = scan(text);
  const member = spans.members.get(key(path));
  if (member) return text.slice(0, member.valueStart) + JSON.stringify(next) + text.slice(member.valueEnd);
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const parent = spans.objects.get(key(path.slice(0, depth)));
    if (!parent) {
      const holder = spans.members.get(key(path.slice(0, depth)));
      if (holder && depth > 0) return setValue(text, path.slice(0, depth), nest(path.slice(depth), next));
      continue;
    }
    const entry = `${JSON.stringify(path[depth])}: ${JSON.stringify(nest(path.slice(depth + 1), next))}`;
    const at = parent.open + 1;
    const insert = parent.empty ? ` ${entry} ` : `\n${parent.indent ?? "  "}${entry},`;
    // On a line of its own the first member keeps its place after the `{`; a one-line object gets it inline.
    return text.slice(0, at) + (parent.empty || text.slice(at).match(/^[ \t]*\n/) ? insert : ` ${entry},`) + text.slice(at);
  }
  return text;
}

function nest(path: string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, name) => ({ [name]: inner }), value);
}

/** The text without the member at `path` (its line too, where it had one of its own). */
export function removeMember(text: string, path: string[]): string {
  const member = scan(text).members.get(key(path));
  if (!member) return text;
  let start = member.keyStart;
  let end = member.end;
  if (!member.hasComma) {
    // The last member: the comma before it goes (JSON allows no trailing comma).
    const before = text.slice(0, start).replace(/(\s|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*$/, "");
    if (before.endsWith(",")) start = before.length - 1;
  }
  const lineStart = text.lastIndexOf("\n", member.keyStart - 1) + 1;
  if (/^[ \t]*$/.test(text.slice(lineStart, member.keyStart)) && start === member.keyStart) start = lineStart;
  const rest = /^[ \t]*\n/.exec(text.slice(end));
  if (rest && start === lineStart) end += rest[0].length;
  return text.slice(0, start) + text.slice(end);
}
