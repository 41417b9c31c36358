import { EXIT, ExitError } from "../exit-codes.ts";
import { defineCommand } from "citty";
import { gatherStatus, formatStatus } from "../install/status.ts";
import { userConfigPath } from "../install/plan.ts";
import { print } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "status", description: "Token, targets, gateway, units and re-auth flag at a glance; exit 0 only when healthy" },
  args: { ...commonArgs, json: { type: "boolean", description: "Machine-readable output" }, user: { type: "boolean", description: "Ask the user manager" } },
  async run({ args }) {
    applyVerbosity(args);
    const { config } = await requireConfig(args.config ?? userConfigPath(args.user));
    const report = await gatherStatus(config, { run: runProcess, now: Date.now(), systemctl: args.user ? ["systemctl", "--user"] : ["systemctl"] });
    print(args.json ? JSON.stringify(report, null, 2) : formatStatus(report));
    if (!report.healthy) throw new ExitError(EXIT.failed);
  },
});
