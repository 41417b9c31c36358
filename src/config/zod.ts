/**
 * zod/mini with English messages: the full zod costs ~6 MB more resident memory in a service that keeps it loaded
 * for every credentials read (measured with bench/latency.ts).
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

export { z };

export const nonEmpty = () => z.string().check(z.minLength(1));

export function describe<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

/** A config section that may be left out: `{}` is parsed, so every key inside gets its own default. */
export function section<T extends z.ZodMiniType>(schema: T, description: string) {
  return describe(z.prefault(schema, {} as z.input<T>), description);
}
