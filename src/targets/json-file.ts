import type { z } from "../config/zod.ts";
import type { jsonFileTargetSchema } from "../config/schema.ts";
import type { ClaudeCredentials } from "../credentials/parse.ts";
import { setValue } from "../json/edit.ts";
import { locate, parsePointer, setAt } from "../json/pointer.ts";
import { sameJson, stringifyJson } from "./json-store.ts";
import type { FilePlan, Held } from "./types.ts";

type Options = Pick<z.infer<typeof jsonFileTargetSchema>, "path" | "tokenPointer" | "expiresAtPointer" | "expiresAtFormat">;
type Format = Options["expiresAtFormat"];

/** The expiry as the file wants it: milliseconds (Claude Code's own unit), seconds, or an ISO 8601 string. */
export function formatExpiry(ms: number, format: Format): number | string {
  if (format === "s") return Math.floor(ms / 1000);
  if (format === "iso") return new Date(ms).toISOString();
  return ms;
}

function parseExpiry(value: unknown, format: Format): number | undefined {
  if (format === "iso") {
    const ms = typeof value === "string" ? Date.parse(value) : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
  return format === "s" ? value * 1000 : value;
}

/**
 * Pure: any JSON file with the access token (and, where asked, its expiry) at JSON-pointer locations. The text is
 * edited where the values sit, so every other byte (order, indentation, the rest of the document) stays as it was;
 * only where that splice cannot give the wanted document is the file written out anew (same data, two-space indent).
 * What is at the token's pointer is the token it holds, for the newer-token rule.
 */
export function planJsonFile(text: string | undefined, credentials: ClaudeCredentials, options: Options): FilePlan {
  const fail = (problem: string): FilePlan => ({ ok: false, error: `${options.path}: ${problem}; not overwritten` });
  const blank = text === undefined || text.trim() === "";
  let document: unknown = {};
  if (!blank) {
    try {
      document = JSON.parse(text);
    } catch {
      return fail("not valid JSON (fix or remove it by hand)");
    }
  }
  if (typeof document !== "object" || document === null) return fail("the document is not an object or an array");
  const tokenAt = parsePointer(options.tokenPointer);
  const expiryAt = options.expiresAtPointer === undefined ? undefined : parsePointer(options.expiresAtPointer);
  const token = locate(document, tokenAt);
  if (!token.ok) return fail(token.error);
  if (token.found && token.value !== null && typeof token.value !== "string") {
    return fail(`${options.tokenPointer} holds ${Array.isArray(token.value) ? "an array" : typeof token.value}, not a token string`);
  }
  const expiry = expiryAt ? locate(document, expiryAt) : undefined;
  if (expiry && !expiry.ok) return fail(expiry.error);
  if (expiry?.found && typeof expiry.value === "object" && expiry.value !== null) return fail(`${options.expiresAtPointer} holds an object, not an expiry`);

  const held: Held | undefined =
    typeof token.value === "string" && token.value !== "" ? { token: token.value, expiresAt: expiry?.found ? parseExpiry(expiry.value, options.expiresAtFormat) : undefined } : undefined;
  const edits: Array<[string[], unknown]> = [[tokenAt, credentials.accessToken]];
  if (expiryAt) edits.push([expiryAt, formatExpiry(credentials.expiresAt, options.expiresAtFormat)]);
  const wanted = edits.reduce<unknown>((doc, [at, value]) => setAt(doc, at, value), document);

  if (blank) return { ok: true, held, next: stringifyJson(wanted) };
  if (sameJson(wanted, document)) return { ok: true, held, next: text };
  return { ok: true, held, next: spliced(text, document, edits, wanted) ?? stringifyJson(wanted) };
}

/**
 * The text with each value replaced or inserted in place; undefined when the result is not exactly `wanted`. A value
 * whose parents are missing is inserted with them, as one member holding both values where they share a parent.
 */
function spliced(text: string, document: unknown, edits: Array<[string[], unknown]>, wanted: unknown): string | undefined {
  const valueAt = (doc: unknown, at: string[]) => {
    const found = locate(doc, at);
    return found.ok && found.found ? { value: found.value } : undefined;
  };
  try {
    let current = text;
    let doc = document;
    for (const [at] of edits) {
      const have = valueAt(doc, at);
      if (have && sameJson(have.value, valueAt(wanted, at)?.value)) continue;
      let depth = at.length - 1;
      while (depth > 0 && !valueAt(doc, at.slice(0, depth))) depth--;
      const member = at.slice(0, depth + 1);
      current = setValue(current, member, valueAt(wanted, member)?.value);
      doc = JSON.parse(current);
    }
    return sameJson(doc, wanted) ? current : undefined;
  } catch {
    return undefined;
  }
}
