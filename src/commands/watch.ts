import { defineCommand } from "citty";
import { loadConfig } from "../config/load.ts";
import { logger } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { VERSION } from "../version.ts";
import { createWatchService } from "../watch/service.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "watch", description: "Run as a service: sync whenever Claude Code rewrites its credentials" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const { config, path } = await requireConfig(args.config);
    const service = createWatchService(config, { now: Date.now, run: runProcess });
    logger.info(`oauth-sync ${VERSION} watching ${config.credentials} → ${config.targets.length} target(s)`);

    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      await service.stop();
      process.exit(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGHUP", async () => {
      const result = await loadConfig(path);
      if (!result.ok) {
        for (const error of result.errors) logger.error(error);
        logger.warn("SIGHUP: config not reloaded, keeping the previous one");
        return;
      }
      logger.info(`SIGHUP: reloaded ${path}`);
      await service.reload(result.config);
    });
    await service.start();
    await new Promise(() => {}); // runs until a signal
  },
});
