import { EXIT, ExitError } from "../exit-codes.ts";
import { defineCommand } from "citty";
import { gatherStatus, formatStatus } from "../install/status.ts";
import { installLayout, whichInstall } from "../install/plan.ts";
import { print, printJson } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "status", description: "Token, targets, gateway, units and re-auth flag at a glance; exit 0 only when healthy" },
  args: { ...commonArgs, json: { type: "boolean", description: "Machine-readable output" }, user: { type: "boolean", description: "A --user install: its config and the user manager (the default for a user who has one)" } },
  async run({ args }) {
    applyVerbosity(args);
    const which = whichInstall({ config: args.config, user: args.user });
    const { config } = await requireConfig(which.config);
    const report = await gatherStatus(config, { run: runProcess, now: Date.now(), systemctl: installLayout({ user: which.user }).systemctl });
    if (args.json) printJson(report);
    else print(formatStatus(report));
    if (!report.healthy) throw new ExitError(EXIT.failed);
  },
});
