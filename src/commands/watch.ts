import { defineCommand } from "citty";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { createReloadScheduler } from "../gateway/scheduler.ts";
import { logger } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { VERSION } from "../version.ts";
import { createWatchService } from "../watch/service.ts";
import { notifier, realCheckDeps } from "../refresh/deps.ts";
import { createRefreshService } from "../refresh/service.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "watch", description: "Run as a service: sync whenever Claude Code rewrites its credentials, then reload the gateway" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const loaded = await requireConfig(args.config);
    let config: Config = loaded.config;
    const reloads = createReloadScheduler({ ...realReloadDeps, random: Math.random, gateway: () => config.gateway, stateDir: () => config.stateDir });
    const refresh = createRefreshService(() => config, { ...realCheckDeps, notify: notifier(() => config), afterTrigger: () => service.afterTrigger() });
    const service = createWatchService(config, {
      now: Date.now,
      run: runProcess,
      afterSync: async (report) => {
        // Not awaited: a slow webhook must not hold up the next pass or the reload.
        void refresh.onSync(report).catch((error) => logger.error(`refresh: ${error?.message ?? error}`));
        await (report.reloadNeeded ? reloads.request() : report.ok ? reloads.retryIfOwed() : undefined);
      },
    });
    logger.info(
      `oauth-sync ${VERSION} watching ${config.credentials} → ${config.targets.length} target(s), gateway ${config.gateway.kind}, refresh trigger ${config.trigger.mode}`,
    );

    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      await service.stop();
      await refresh.stop();
      await reloads.stop();
      process.exit(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGHUP", async () => {
      const result = await loadConfig(loaded.path);
      if (!result.ok) {
        for (const error of result.errors) logger.error(error);
        logger.warn("SIGHUP: config not reloaded, keeping the previous one");
        return;
      }
      logger.info(`SIGHUP: reloaded ${loaded.path}`);
      config = result.config;
      await service.reload(config);
    });
    await reloads.resume();
    await service.start();
    refresh.start();
    await new Promise(() => {}); // runs until a signal
  },
});
