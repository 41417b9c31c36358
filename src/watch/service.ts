import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { logger } from "../log/logger.ts";
import { syncOnce, type SyncDeps, type SyncReport } from "../sync/engine.ts";
import { logReport } from "../sync/report.ts";
import { coalescer } from "./coalesce.ts";
import { watcher, type AsyncSubscription, type Event } from "./native.ts";

export interface WatchDeps extends SyncDeps {
  /** Called after every sync pass; the gateway reload hangs here. */
  afterSync?: (report: SyncReport) => Promise<void> | void;
  dirCheckMs?: number;
}

const HALF_WRITTEN_RETRIES = 5;
const HALF_WRITTEN_DELAY_MS = 100;

/** The resident service: watch the credentials directory, sync on change, reconcile on a timer. */
function identity(info: { dev: number; ino: number; birthtimeMs: number }): string {
  return `${info.dev}:${info.ino}:${info.birthtimeMs}`;
}

export function createWatchService(initial: Config, deps: WatchDeps) {
  let config = initial;
  let subscription: AsyncSubscription | undefined;
  let watchedDir: string | undefined;
  let stopped = false;
  let halfWrittenTries = 0;
  const timers = { reconcile: undefined as Timer | undefined, dirCheck: undefined as Timer | undefined, retry: undefined as Timer | undefined };
  const lastLogged = new Map<string, string>();
  let syncCount = 0;

  const pass = async () => {
    if (stopped) return;
    const report = await syncOnce(config, deps).catch((error): SyncReport | undefined => {
      logger.error(`sync failed: ${error?.message ?? error}`);
      return undefined;
    });
    syncCount++;
    if (!report) return scheduleRetry(config.watch.retrySeconds * 1000);
    logReport(report, lastLogged);
    if (!report.source.ok && report.source.reason === "malformed" && halfWrittenTries < HALF_WRITTEN_RETRIES) {
      halfWrittenTries++;
      return scheduleRetry(HALF_WRITTEN_DELAY_MS);
    }
    halfWrittenTries = 0;
    if (report.outcomes.some((o) => o.status === "failed")) scheduleRetry(config.watch.retrySeconds * 1000);
    await deps.afterSync?.(report);
  };
  const queue = coalescer(pass, config.watch);

  function scheduleRetry(ms: number) {
    clearTimeout(timers.retry);
    timers.retry = setTimeout(() => queue.now(), ms);
  }

  const onEvents = (error: Error | null, events: Event[]) => {
    if (error) logger.warn(`watcher: ${error.message}`);
    const name = basename(config.credentials);
    if (events.some((event) => basename(event.path) === name)) queue.trigger();
  };

  async function subscribe() {
    const dir = dirname(config.credentials);
    await unsubscribe();
    const info = await stat(dir).catch(() => undefined);
    if (!info) {
      logger.warn(`${dir} does not exist (yet): waiting for it to appear`);
      return;
    }
    subscription = await watcher.subscribe(dir, onEvents, { backend: "inotify" });
    watchedDir = identity(info);
    logger.debug(`watching ${dir}`);
  }

  async function unsubscribe() {
    const current = subscription;
    subscription = undefined;
    watchedDir = undefined;
    await current?.unsubscribe().catch(() => {});
  }

  /**
   * inotify follows the inode: a directory deleted and recreated (a remounted volume) needs a new subscription.
   * The new directory often gets the freed inode number back (seen on ext4), so its birth time tells them apart.
   */
  async function checkDirectory() {
    const info = await stat(dirname(config.credentials)).catch(() => undefined);
    const replaced = info ? identity(info) !== watchedDir : subscription !== undefined;
    if (!replaced || stopped) return;
    if (info) logger.info(`${dirname(config.credentials)} was replaced: watching it again`);
    await subscribe();
    queue.trigger();
  }

  function startTimers() {
    timers.reconcile = setInterval(() => queue.now(), config.watch.reconcileSeconds * 1000);
    timers.dirCheck = setInterval(() => void checkDirectory(), deps.dirCheckMs ?? 2000);
  }

  function stopTimers() {
    for (const timer of Object.values(timers)) clearTimeout(timer);
  }

  return {
    async start() {
      await subscribe();
      startTimers();
      queue.now();
      await queue.idle();
    },
    async reload(next: Config) {
      config = next;
      stopTimers();
      await subscribe();
      startTimers();
      queue.now();
    },
    async stop() {
      stopped = true;
      stopTimers();
      queue.cancel();
      await queue.idle();
      await unsubscribe();
    },
    get syncCount() {
      return syncCount;
    },
  };
}
