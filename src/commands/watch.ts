import { defineCommand } from "citty";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { createReloadScheduler } from "../gateway/scheduler.ts";
import { logger } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { removeLeftoverTemps } from "../targets/leftovers.ts";
import { VERSION } from "../version.ts";
import { createWatchService } from "../watch/service.ts";
import { notifier, realCheckDeps } from "../refresh/deps.ts";
import { createRefreshService } from "../refresh/service.ts";
import { createPushScheduler } from "../push/scheduler.ts";
import { sshTargets } from "../push/targets.ts";
import { applyVerbosity, commonArgs, refuseReceiverConfig, requireConfig } from "./_shared.ts";

const STOP_GRACE_MS = 5000;

export default defineCommand({
  meta: { name: "watch", description: "Run as a service: sync whenever Claude Code rewrites its credentials, then reload the gateway" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const loaded = await requireConfig(args.config);
    let config: Config = loaded.config;
    refuseReceiverConfig(config, "watch");
    const reloads = createReloadScheduler({ ...realReloadDeps, random: Math.random, gateway: () => config.gateway, stateDir: () => config.stateDir });
    const refresh = createRefreshService(() => config, { ...realCheckDeps, notify: notifier(() => config), afterTrigger: () => service.afterTrigger() });
    const pushes = createPushScheduler({
      run: runProcess,
      now: Date.now,
      random: Math.random,
      stateDir: () => config.stateDir,
      notify: notifier(() => config),
      notifySettings: () => config.notify,
    });
    const service = createWatchService(config, {
      now: Date.now,
      run: runProcess,
      afterSync: async (report) => {
        // Not awaited: a slow webhook must not hold up the next pass or the reload.
        void refresh.onSync(report).catch((error) => logger.error(`refresh: ${error?.message ?? error}`));
        // Other hosts get the token on their own workers: a down host never holds up this pass or the others.
        if (report.source.ok) pushes.offer(sshTargets(config), report.source.credentials);
        await (report.reloadNeeded ? reloads.request() : report.ok ? reloads.retryIfOwed() : undefined);
      },
    });
    logger.info(
      `oauth-sync ${VERSION} watching ${config.credentials} → ${config.targets.length} target(s)${sshTargets(config).length ? ` (${sshTargets(config).length} by ssh)` : ""}, gateway ${config.gateway.kind}, refresh trigger ${config.trigger.mode}`,
    );

    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      // A pass waiting on a slow child (openclaw, claude, docker) must not keep the service from stopping.
      setTimeout(() => {
        logger.warn(`${signal}: the running pass did not finish within ${STOP_GRACE_MS / 1000}s: exiting anyway`);
        process.exit(0);
      }, STOP_GRACE_MS).unref();
      pushes.stop();
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
      if (result.config.source === "push") {
        logger.error('SIGHUP: the new config says "source": "push" (a receiving host): keeping the previous one');
        return;
      }
      logger.info(`SIGHUP: reloaded ${loaded.path}`);
      config = result.config;
      await service.reload(config);
    });
    await reloads.resume();
    // A writer killed mid-write (SIGKILL, power loss) leaves its temp file: ours, by name, removed before we start.
    const leftovers = await removeLeftoverTemps(config, runProcess).catch(() => []);
    if (leftovers.length) logger.info(`removed ${leftovers.length} temp file(s) an earlier run left behind: ${leftovers.join(", ")}`);
    await service.start();
    refresh.start();
    await new Promise(() => {}); // runs until a signal
  },
});
