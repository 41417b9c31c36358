/** What the schema expects at a place in a config: the keys an object there may have, and whether a key may be left out. Pure. */

// zod/mini keeps each schema's definition in `_zod.def`; only the kinds the config schema uses are walked.
interface Def {
  type: string;
  innerType?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
}
interface Schema {
  _zod: { def: Def };
}

const WRAPPERS = new Set(["optional", "default", "prefault", "nullable", "readonly", "catch"]);

const unwrap = (schema: Schema): Schema => {
  let at = schema;
  while (WRAPPERS.has(at._zod.def.type) && at._zod.def.innerType) at = at._zod.def.innerType;
  return at;
};

/** For a discriminated union: the option the input's discriminator value picks, if any. */
function pick(union: Def, input: unknown): Schema | undefined {
  const value = typeof input === "object" && input !== null ? (input as Record<string, unknown>)[union.discriminator!] : undefined;
  return union.options?.find((option) => {
    const tag = option._zod.def.shape?.[union.discriminator!];
    return tag !== undefined && (unwrap(tag)._zod.def.values ?? []).includes(value ?? undefined);
  });
}

/** The schema at a path of the input, or undefined where it cannot be told (an unknown kind, a free-form record). */
export function schemaAt(schema: unknown, input: unknown, path: readonly PropertyKey[]): Schema | undefined {
  let at: Schema | undefined = schema as Schema;
  let value = input;
  for (const part of path) {
    if (!at) return undefined;
    at = unwrap(at);
    if (at._zod.def.type === "union" && at._zod.def.discriminator) at = pick(at._zod.def, value);
    if (!at) return undefined;
    const def = unwrap(at)._zod.def;
    at = typeof part === "number" ? def.element : def.shape?.[String(part)];
    value = (value as Record<PropertyKey, unknown> | undefined)?.[part];
  }
  if (!at) return undefined;
  const def = unwrap(at)._zod.def;
  return def.type === "union" && def.discriminator ? (pick(def, value) ?? at) : at;
}

/** The keys an object at this path may have. */
export function keysAt(schema: unknown, input: unknown, path: readonly PropertyKey[]): string[] {
  const at = schemaAt(schema, input, path);
  return Object.keys((at && unwrap(at)._zod.def.shape) ?? {});
}

/** Whether the key at this path may be left out (it has a default or is optional). */
export function mayBeLeftOut(schema: unknown, input: unknown, path: readonly PropertyKey[]): boolean {
  const parent = schemaAt(schema, input, path.slice(0, -1));
  const own = parent && unwrap(parent)._zod.def.shape?.[String(path.at(-1))];
  return Boolean(own && WRAPPERS.has(own._zod.def.type) && own._zod.def.type !== "nullable");
}
