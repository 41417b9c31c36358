import { EXIT, ExitError } from "../exit-codes.ts";
import { defineCommand } from "citty";
import { applyVerbosity, commonArgs, refuseReceiverConfig, requireConfig } from "./_shared.ts";
import { runCheck } from "./_check.ts";
import { checkExitCode } from "./_edge.ts";

export default defineCommand({
  meta: {
    name: "refresh",
    description: "Refresh directly at the token endpoint (no CLI), under the CLI's own locks; exit codes as check. See docs/HOW-TOKEN-REFRESH-WORKS.md",
  },
  args: {
    ...commonArgs,
    force: { type: "boolean", description: "Refresh even outside the refresh window" },
    sync: { type: "boolean", default: true, description: "Sync the targets after a refresh" },
  },
  async run({ args }) {
    applyVerbosity(args);
    const { config } = await requireConfig(args.config);
    refuseReceiverConfig(config, "refresh");
    const code = checkExitCode(await runCheck(config, { sync: args.sync, direct: true, force: args.force }));
    if (code !== EXIT.ok) throw new ExitError(code);
  },
});
