import { defineCommand } from "citty";
import { configDigest } from "../config/digest.ts";
import { configJsonSchema } from "../config/json-schema.ts";
import { configPath, loadConfig } from "../config/load.ts";
import { EXIT, ExitError } from "../exit-codes.ts";
import { logger, print, printJson } from "../log/logger.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

const check = defineCommand({
  meta: { name: "check", description: "Validate a config file and explain each error" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const result = await loadConfig(configPath(args.config));
    if (!result.ok) {
      // Each line names the file already (FILE:LINE:COLUMN: …, or "cannot read config FILE: …").
      for (const error of result.errors) print(error);
      throw new ExitError(EXIT.misconfigured);
    }
    for (const note of result.notes) print(`${result.path}: ${note}`);
    print(`${result.path}: ok (${result.config.targets.length} target(s), gateway ${result.config.gateway.kind}, config ${configDigest(result.config)})`);
  },
});

const schema = defineCommand({
  meta: { name: "schema", description: "Print the config's JSON Schema" },
  run() {
    printJson(configJsonSchema());
  },
});

const show = defineCommand({
  meta: { name: "show", description: "Print the effective config (defaults filled in, paths absolute)" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const { config, path } = await requireConfig(args.config, { state: false });
    logger.debug(`from ${path}`);
    printJson(config);
  },
});

export default defineCommand({
  meta: { name: "config", description: "Check, explain or show the configuration" },
  subCommands: { check, schema, show },
});
