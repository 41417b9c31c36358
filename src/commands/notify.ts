import { defineCommand } from "citty";
import { EXIT, ExitError } from "../exit-codes.ts";
import { logger } from "../log/logger.ts";
import { testEvent, thisHost } from "../notify/event.ts";
import { notifyAll, realSendDeps } from "../notify/send.ts";
import { applyVerbosity, commonArgs, requireConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "notify", description: "Send notifications by hand: --test sends a test message to every notify.webhooks entry" },
  args: { ...commonArgs, test: { type: "boolean", description: "Send a test message" } },
  async run({ args }) {
    applyVerbosity(args);
    const { config } = await requireConfig(args.config);
    if (!args.test) {
      logger.error("nothing to do: pass --test");
      throw new ExitError(EXIT.misconfigured);
    }
    if (config.notify.webhooks.length === 0) {
      logger.error("notify.webhooks is empty: nothing to send to");
      throw new ExitError(EXIT.misconfigured);
    }
    const results = await notifyAll(testEvent(thisHost(config.notify.host), Date.now()), config.notify, realSendDeps);
    for (const r of results) {
      if (r.ok) logger.success(`${r.label}: delivered`);
      else logger.error(`${r.label}: ${r.error} (after ${r.attempts} attempt(s))`);
    }
    if (results.some((r) => !r.ok)) throw new ExitError(EXIT.failed);
  },
});
