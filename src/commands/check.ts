import { EXIT, ExitError } from "../exit-codes.ts";
import { defineCommand } from "citty";
import { applyVerbosity, commonArgs, refuseReceiverConfig, requireConfig } from "./_shared.ts";
import { runCheck } from "./_check.ts";
import { checkExitCode } from "./_edge.ts";

export default defineCommand({
  meta: {
    name: "check",
    description: "Refresh through Claude Code if the token is in its window, confirm, sync. Exit 0 ok, 5 refreshed, 6 transient, 7 re-auth needed, 2 misconfigured",
  },
  args: { ...commonArgs, sync: { type: "boolean", default: true, description: "Sync the targets after a refresh" } },
  async run({ args }) {
    applyVerbosity(args);
    const { config } = await requireConfig(args.config);
    refuseReceiverConfig(config, "check");
    const code = checkExitCode(await runCheck(config, { sync: args.sync }));
    if (code !== EXIT.ok) throw new ExitError(code);
  },
});
