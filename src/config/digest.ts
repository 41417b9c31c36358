import { createHash } from "node:crypto";
import type { Config } from "./schema.ts";

/** A short digest of the config in force (defaults filled in): `watch` logs it at start, `config check` prints it. */
export function configDigest(config: Config): string {
  return createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 12);
}
