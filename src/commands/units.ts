import { defineCommand } from "citty";
import { statSync } from "node:fs";
import { join } from "node:path";
import { EXIT, ExitError } from "../exit-codes.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { installLayout, userConfigPath } from "../install/plan.ts";
import { print } from "../log/logger.ts";
import { renderUnits } from "../systemd/units.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "units", description: "Print the systemd units install would write for this config (--output DIR writes them)" },
  args: {
    ...commonArgs,
    output: { type: "string", valueHint: "DIR", description: "Write the units into this directory instead of printing them" },
    user: { type: "boolean", description: "User units (systemctl --user)" },
  },
  async run({ args }) {
    applyVerbosity(args);
    // Units go into a directory that is there: a typo must not grow a tree of directories.
    if (args.output && !statSync(args.output, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ExitError(EXIT.usage, `oauth-sync units: --output ${JSON.stringify(args.output)} is not an existing directory: create it first (mkdir -p …), or leave --output out to print the units`);
    }
    const { config, path } = await requireConfig(args.config ?? userConfigPath(args.user));
    const layout = installLayout({ user: args.user });
    const units = renderUnits(config, { binary: layout.binary, configPath: path, user: args.user });
    for (const unit of units) {
      if (args.output) {
        const outcome = await writeFileAtomic(join(args.output, unit.name), unit.content, { newFileMode: 0o644 });
        print(`${outcome} ${join(args.output, unit.name)}`);
      } else print(`# ${unit.name}\n${unit.content}`);
    }
  },
});
