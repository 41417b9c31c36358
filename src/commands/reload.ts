import { defineCommand } from "citty";
import { EXIT, ExitError } from "../exit-codes.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { dropOwedReload, reloadOnce } from "../gateway/scheduler.ts";
import { logger } from "../log/logger.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "reload", description: "Run the configured gateway reload once (after editing something by hand)" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const { config } = await requireConfig(args.config);
    if (config.gateway.kind === "none") {
      // A reload owed under an earlier gateway config is dropped: there is nothing left to pay it to.
      await dropOwedReload(config.stateDir);
      logger.warn('gateway.kind is "none": nothing to reload');
      return;
    }
    const result = await reloadOnce(config.gateway, config.stateDir, realReloadDeps);
    if (!result.ok) {
      logger.error(`gateway reload failed: ${result.error}`);
      throw new ExitError(EXIT.reloadFailed);
    }
    logger.success(`gateway: ${result.detail}`);
  },
});
