import { z } from "./zod.ts";
import { signalGateway } from "./gateway.ts";
import { configSchema, stateDir } from "./schema.ts";

/**
 * The config's JSON Schema as an editor reads it (`io: "input"`): a key with a default is optional and shows that
 * default. stateDir's default depends on who runs oauth-sync (root or not), so it is described, not stated. The
 * signal gateway's "exactly one of pidFile or unit" (a zod refinement) is spelled out for the editor.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, {
    io: "input",
    override(ctx) {
      if (ctx.zodSchema === stateDir) delete ctx.jsonSchema.default;
      if (ctx.zodSchema === signalGateway) ctx.jsonSchema.oneOf = [{ required: ["pidFile"] }, { required: ["unit"] }];
    },
  }) as Record<string, unknown>;
}
