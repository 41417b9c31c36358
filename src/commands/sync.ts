import { defineCommand } from "citty";
import { EXIT, ExitError } from "../exit-codes.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { reloadOnce } from "../gateway/scheduler.ts";
import { logger } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { pushEverywhere } from "../push/scheduler.ts";
import { sshTargets } from "../push/targets.ts";
import { syncOnce } from "../sync/engine.ts";
import { logReport } from "../sync/report.ts";
import { applyVerbosity, commonArgs, refuseReceiverConfig, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "sync", description: "Copy the Claude Code credentials into every target once (and push them to every ssh host), reload the gateway if one changed, exit" },
  args: {
    ...commonArgs,
    reload: { type: "boolean", default: true, description: "Reload the gateway if a target changed" },
    force: { type: "boolean", description: "Replace a token a target or a receiving host holds even where it expires later (e.g. a one-year setup-token), this once" },
  },
  async run({ args }) {
    applyVerbosity(args);
    const { config } = await requireConfig(args.config);
    refuseReceiverConfig(config, "sync");
    const report = await syncOnce(config, { now: Date.now, run: runProcess, force: Boolean(args.force) });
    logReport(report);
    if (!report.source.ok) throw new ExitError(EXIT.credentialsRefused);
    // Every host at once, each bounded by its own timeout, while the gateway reloads here.
    const hosts = sshTargets(config);
    const pushes = hosts.length
      ? pushEverywhere(hosts, report.source.credentials, { run: runProcess, now: Date.now, stateDir: () => config.stateDir }, { force: Boolean(args.force) })
      : Promise.resolve([]);
    let exit: number = EXIT.ok;
    if (report.reloadNeeded && args.reload && config.gateway.kind !== "none") {
      const reload = await reloadOnce(config.gateway, config.stateDir, realReloadDeps);
      if (reload.ok) logger.success(`gateway: ${reload.detail}`);
      else {
        logger.error(`gateway reload failed: ${reload.error}`);
        exit = EXIT.reloadFailed;
      }
    }
    for (const push of await pushes) {
      if (push.result.kind === "held") logger.success(`${push.id}: holds token ${push.record.fingerprint} (${push.result.detail}, ${push.ms} ms)`);
      else logger.error(`${push.id}: ${push.result.error}`);
    }
    if (exit !== EXIT.ok) throw new ExitError(exit);
    if (!report.ok || (await pushes).some((p) => p.result.kind !== "held")) throw new ExitError(EXIT.targetFailed);
  },
});
