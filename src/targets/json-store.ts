/** Parse an existing JSON target: an object, or an error naming the file. Missing file → empty object. */
export function parseJsonObject(text: string | undefined, file: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  if (text === undefined || text.trim() === "") return { ok: true, value: {} };
  try {
    const value = JSON.parse(text);
    if (isObject(value)) return { ok: true, value };
  } catch {
    // fall through
  }
  return { ok: false, error: `${file} holds something that is not a JSON object: fix or remove it by hand; not overwritten` };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON text the way OpenClaw writes its stores: two-space indent, trailing newline. */
export function stringifyJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Equal as data, whatever the key order: a file we would not change is not ours to reformat. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
}
