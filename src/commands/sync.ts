import { defineCommand } from "citty";
import { EXIT } from "../exit-codes.ts";
import { runProcess } from "../process/run.ts";
import { syncOnce } from "../sync/engine.ts";
import { logReport } from "../sync/report.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "sync", description: "Copy the Claude Code credentials into every target once, then exit" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const { config } = await requireConfig(args.config);
    const report = await syncOnce(config, { now: Date.now, run: runProcess });
    logReport(report);
    if (!report.source.ok) process.exit(EXIT.credentialsRefused);
    if (!report.ok) process.exit(EXIT.targetFailed);
  },
});
