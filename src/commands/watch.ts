import { defineCommand } from "citty";
import { configDigest } from "../config/digest.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { EXIT } from "../exit-codes.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import { sshTargets } from "../push/targets.ts";
import { notifier, realCheckDeps } from "../refresh/deps.ts";
import { serialRunner } from "../schedule/runner.ts";
import { VERSION } from "../version.ts";
import { createDaemon } from "../watch/daemon.ts";
import { leave } from "./_edge.ts";
import { applyVerbosity, commonArgs, refuseReceiverConfig, requireConfig } from "./_shared.ts";

const STOP_GRACE_MS = 5000;

function startLine(config: Config): string {
  const ssh = sshTargets(config).length;
  return `oauth-sync ${VERSION} watching ${config.credentials} → ${config.targets.length} target(s)${ssh ? ` (${ssh} by ssh)` : ""}, gateway ${config.gateway.kind}, refresh trigger ${config.trigger.mode} (config ${configDigest(config)}, pid ${process.pid})`;
}

export default defineCommand({
  meta: { name: "watch", description: "Run as a service: sync whenever Claude Code rewrites its credentials, then reload the gateway" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const loaded = await requireConfig(args.config);
    let config = loaded.config;
    refuseReceiverConfig(config, "watch");
    const build = () => createDaemon(config, { ...realReloadDeps, random: Math.random, check: realCheckDeps, notify: notifier(() => config) });
    let daemon = build();
    let stopping = false;

    /** Let the pass under way finish, but never wait on a stuck child (openclaw, claude, docker) for long. True: it did not. */
    const stopDaemon = async (why: string): Promise<boolean> => {
      let grace: Timer | undefined;
      const late = new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(true), STOP_GRACE_MS)));
      const tooLong = await Promise.race([daemon.stop().then(() => false), late]);
      if (tooLong) logger.warn(`${why}: the running pass did not finish within ${STOP_GRACE_MS / 1000}s: going on without it`);
      clearTimeout(grace);
      return tooLong;
    };

    /**
     * SIGHUP: a valid new config is applied whole: the service (watcher, schedulers, timers, workers) is stopped and
     * built anew from it in this process, as at a start, so no setting can be half applied. An invalid one is
     * refused and the running service keeps the previous config. Reloads run one at a time; a SIGHUP during one
     * gives one more.
     */
    const reloads = serialRunner(
      async () => {
        if (stopping) return;
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
        logger.info(`SIGHUP: ${loaded.path} is valid (config ${configDigest(result.config)}): applying it, the service starts afresh`);
        // A gateway reload still under way: the new service starts once it ended (its own timeout bounds it).
        if (await stopDaemon("SIGHUP")) logger.info("SIGHUP: waiting for a gateway reload under way, if any, before starting afresh");
        await daemon.reloadEnded();
        if (stopping) return;
        config = result.config;
        daemon = build();
        logger.info(startLine(config));
        await daemon.start();
      },
      {
        onError: (error) => {
          // Half stopped or half started: let the service manager start it cleanly with the new config.
          logger.error(`SIGHUP: the service could not start again (${oneLine(error)}): exiting for the service manager to restart it`);
          leave(EXIT.failed);
        },
      },
    );

    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      await reloads.stop();
      await stopDaemon(signal);
      leave(EXIT.ok);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    // A SIGHUP before the first start is complete is applied right after it (stopping a half-started service could
    // leave a watch behind).
    let started = false;
    let hangupDuringStart = false;
    process.on("SIGHUP", () => (started ? reloads.runNow() : (hangupDuringStart = true)));

    logger.info(startLine(config));
    await daemon.start();
    started = true;
    if (hangupDuringStart) reloads.runNow();
    await new Promise(() => {}); // runs until a signal
  },
});
