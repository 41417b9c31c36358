/**
 * JSON Pointer (RFC 6901): "/a/b~1c/0" names the member "b/c" of "a", then element 0. Only non-empty pointers are
 * used here: a target writes a member, never the whole document.
 */

/** A pointer as config accepts it: one or more `/`-prefixed reference tokens, `~` only as `~0` or `~1`. */
export const POINTER_PATTERN = /^(\/([^~/]|~[01])*)+$/;

/** The reference tokens of a pointer, unescaped (`~1` → `/`, then `~0` → `~`, in that order as the RFC says). */
export function parsePointer(pointer: string): string[] {
  if (!POINTER_PATTERN.test(pointer)) throw new Error(`${JSON.stringify(pointer)} is not a JSON pointer (RFC 6901), e.g. "/auth/token"`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** An array index as RFC 6901 writes it: "0", or digits without a leading zero. */
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

export type Located = { ok: true; found: boolean; value?: unknown } | { ok: false; error: string };

/**
 * Pure: what is at `tokens` in `document`, and whether a value may be set there: every parent must be an object, or
 * an array whose element already exists (an index past the end, or `-`, is refused: it would shift what the program
 * reads). A missing member of an object is fine: it (and any missing parent objects) will be created.
 */
export function locate(document: unknown, tokens: string[]): Located {
  let node = document;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const at = `/${tokens.slice(0, i).join("/")}`;
    if (Array.isArray(node)) {
      if (!ARRAY_INDEX.test(token) || Number(token) >= node.length) {
        return { ok: false, error: `${at} is an array without an element ${JSON.stringify(token)}: only existing elements are written` };
      }
      node = node[Number(token)];
    } else if (typeof node === "object" && node !== null) {
      if (!Object.hasOwn(node, token)) return { ok: true, found: false };
      node = (node as Record<string, unknown>)[token];
    } else {
      return { ok: false, error: `${at} holds ${node === null ? "null" : typeof node}, not an object: nothing can be put inside it` };
    }
  }
  return { ok: true, found: true, value: node };
}

/** Pure: `document` with `value` set at `tokens` (missing parent objects created); the input is not changed. */
export function setAt(document: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const [head, ...rest] = tokens as [string, ...string[]];
  if (Array.isArray(document)) return document.map((item, i) => (String(i) === head ? setAt(item, rest, value) : item));
  const object = typeof document === "object" && document !== null ? (document as Record<string, unknown>) : {};
  return { ...object, [head]: setAt(Object.hasOwn(object, head) ? object[head] : undefined, rest, value) };
}
