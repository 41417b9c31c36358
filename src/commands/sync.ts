import { defineCommand } from "citty";
import { EXIT, ExitError } from "../exit-codes.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { oneShotEffects } from "../pass/effects.ts";
import { runPass } from "../pass/pipeline.ts";
import { POLICY } from "../pass/policy.ts";
import { runProcess } from "../process/run.ts";
import { readSource } from "../sync/engine.ts";
import { syncExitCode } from "./_edge.ts";
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
    const policy = args.reload ? POLICY.sync : { ...POLICY.sync, reload: "skip" as const };
    const effects = oneShotEffects(config, { now: Date.now, run: runProcess, reload: realReloadDeps, force: Boolean(args.force) });
    const outcome = await runPass(config, await readSource(config.credentials, effects.sync), policy, effects);
    const code = syncExitCode(outcome);
    if (code !== EXIT.ok) throw new ExitError(code);
  },
});
