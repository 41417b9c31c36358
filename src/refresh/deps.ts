import type { Config } from "../config/schema.ts";
import { logger } from "../log/logger.ts";
import type { NotifyEvent } from "../notify/event.ts";
import { notifyAll, realSendDeps } from "../notify/send.ts";
import { runProcess } from "../process/run.ts";
import type { CheckDeps } from "./check.ts";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const realCheckDeps: CheckDeps = {
  now: Date.now,
  sleep,
  random: Math.random,
  // Bun's fetch honours HTTPS_PROXY/NO_PROXY and NODE_EXTRA_CA_CERTS from the environment, as the CLI does.
  fetch: (url, init) => fetch(url, init),
  run: runProcess,
  log: (line) => logger.info(line),
};

/** Notifications to the configured webhooks (none configured: nothing is sent). */
export const notifier = (config: () => Config) => (event: NotifyEvent) => notifyAll(event, config().notify, realSendDeps);
