import { defineCommand } from "citty";
import { EXIT } from "../exit-codes.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { reloadOnce } from "../gateway/scheduler.ts";
import { logger } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { syncOnce } from "../sync/engine.ts";
import { logReport } from "../sync/report.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "sync", description: "Copy the Claude Code credentials into every target once, reload the gateway if one changed, exit" },
  args: {
    ...commonArgs,
    reload: { type: "boolean", default: true, description: "Reload the gateway if a target changed (--no-reload: do not)" },
    force: { type: "boolean", description: "Replace a token a target holds even where it expires later (e.g. a one-year setup-token), this once" },
  },
  async run({ args }) {
    applyVerbosity(args);
    const { config } = await requireConfig(args.config);
    const report = await syncOnce(config, { now: Date.now, run: runProcess, force: Boolean(args.force) });
    logReport(report);
    if (!report.source.ok) process.exit(EXIT.credentialsRefused);
    if (report.reloadNeeded && args.reload && config.gateway.kind !== "none") {
      const reload = await reloadOnce(config.gateway, config.stateDir, realReloadDeps);
      if (reload.ok) logger.success(`gateway: ${reload.detail}`);
      else {
        logger.error(`gateway reload failed: ${reload.error}`);
        process.exit(EXIT.reloadFailed);
      }
    }
    if (!report.ok) process.exit(EXIT.targetFailed);
  },
});
