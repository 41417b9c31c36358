import { defineCommand } from "citty";
import { configDigest } from "../config/digest.ts";
import { loadConfig } from "../config/load.ts";
import { EXIT } from "../exit-codes.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { logger } from "../log/logger.ts";
import { acceptHangups, findLibc, reapOrphans, reexecSelf } from "../process/reexec.ts";
import { sshTargets } from "../push/targets.ts";
import { notifier, realCheckDeps } from "../refresh/deps.ts";
import { VERSION } from "../version.ts";
import { createDaemon } from "../watch/daemon.ts";
import { leave } from "./_edge.ts";
import { applyVerbosity, commonArgs, refuseReceiverConfig, requireConfig } from "./_shared.ts";

const STOP_GRACE_MS = 5000;

export default defineCommand({
  meta: { name: "watch", description: "Run as a service: sync whenever Claude Code rewrites its credentials, then reload the gateway" },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    const loaded = await requireConfig(args.config);
    const config = loaded.config;
    refuseReceiverConfig(config, "watch");
    const daemon = createDaemon(config, { ...realReloadDeps, random: Math.random, check: realCheckDeps, notify: notifier(() => config) });
    const ssh = sshTargets(config).length;
    logger.info(
      `oauth-sync ${VERSION} watching ${config.credentials} → ${config.targets.length} target(s)${ssh ? ` (${ssh} by ssh)` : ""}, gateway ${config.gateway.kind}, refresh trigger ${config.trigger.mode} (config ${configDigest(config)}, pid ${process.pid})`,
    );

    let stopping = false;
    /** Let the pass under way finish, but never wait on a stuck child (openclaw, claude, docker) for long. */
    const stopDaemon = async (why: string) => {
      let grace: Timer | undefined;
      const late = new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(true), STOP_GRACE_MS)));
      if (await Promise.race([daemon.stop().then(() => false), late])) {
        logger.warn(`${why}: the running pass did not finish within ${STOP_GRACE_MS / 1000}s: going on without it`);
      }
      clearTimeout(grace);
    };
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      await stopDaemon(signal);
      leave(EXIT.ok);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGHUP", () => void reload());
    // Started by a SIGHUP: that one was blocked across the restart; a reload asked for meanwhile is delivered now.
    const libc = findLibc();
    if (libc.ok) {
      reapOrphans(libc.libc);
      acceptHangups(libc.libc);
    }

    /**
     * SIGHUP: a valid new config is applied whole by starting afresh in the same process (execve, same pid), so no
     * setting can be half applied. An invalid one is refused and the running service keeps the previous config.
     */
    async function reload() {
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
      if (!libc.ok) {
        logger.error(`SIGHUP: cannot restart in place (${libc.error}): keeping the previous config; run \`systemctl restart oauth-sync\``);
        return;
      }
      if (stopping) return;
      stopping = true;
      logger.info(`SIGHUP: ${loaded.path} is valid (config ${configDigest(result.config)}): restarting in place to apply it`);
      await stopDaemon("SIGHUP");
      const error = reexecSelf(libc.libc, process.argv.slice(2), process.env);
      // Stopped already: exit so that systemd (Restart=on-failure) starts the service with the new config.
      logger.error(`SIGHUP: ${error}: exiting for the service manager to start it again`);
      leave(EXIT.failed);
    }

    await daemon.start();
    await new Promise(() => {}); // runs until a signal
  },
});
