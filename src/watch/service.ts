import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { fingerprint } from "../log/redact.ts";
import { logger } from "../log/logger.ts";
import { syncOnce, type SyncDeps, type SyncReport } from "../sync/engine.ts";
import { logReport } from "../sync/report.ts";
import { updateState } from "../state/store.ts";
import { serialRunner } from "../schedule/runner.ts";
import { oneLine } from "../log/one-line.ts";
import { missedBy, nextExpiryCheck, type PassReason } from "./expiry.ts";
import { watchMounts } from "./mounts.ts";
import { watcher, type AsyncSubscription, type Event, type Watcher } from "./native.ts";

export interface WatchDeps extends SyncDeps {
  /** Called after every sync pass; the gateway reload hangs here. */
  afterSync?: (report: SyncReport) => Promise<void> | void;
  /** The file events: @parcel/watcher by default; null starts no watcher at all (a test seam: only the safety nets run). */
  watcher?: Watcher | null;
  /** The mount-table monitor (findmnt --poll by default); null starts none. */
  mounts?: typeof watchMounts | null;
}

const HALF_WRITTEN_RETRIES = 5;
const HALF_WRITTEN_DELAY_MS = 100;
/**
 * After every callback from the watcher, however empty, the file is looked at once more this much later.
 * @parcel/watcher 2.x can drop an event: its debounce thread copies the batch and then clears it, and an event
 * added in between is gone (Watcher::triggerCallbacks). The callback that took the batch still arrives, so one stat
 * a moment later catches the rename whose event was lost. Longer than the watcher's own longest batch (500 ms), so
 * an event that is merely late is not counted as missed.
 */
const LOOK_DELAY_MS = 600;
/** A pass this long after each refresh trigger of our own: its rotation lands even if the watcher missed it. */
const AFTER_TRIGGER_DELAY_MS = 1000;
const MOUNTS_READY_MS = 1000;
const COLLECT_AFTER_MS = 10_000;
/** Long waits are re-armed at least this often: a suspended machine's timers run late. */
const MAX_TIMER_MS = 15 * 60_000;

function identity(info: { dev: number; ino: number; birthtimeMs: number; mtimeMs: number; size: number; ctimeMs: number }): string {
  return `${info.dev}:${info.ino}:${info.birthtimeMs}:${info.mtimeMs}:${info.size}:${info.ctimeMs}`;
}

/** The same directory: device, inode and birth time (ext4 hands a freed inode number straight back). */
const dirIdentity = (info: { dev: number; ino: number; birthtimeMs: number }) => `${info.dev}:${info.ino}:${info.birthtimeMs}`;

async function statIdentity(path: string, full: boolean): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info && (full ? identity(info) : dirIdentity(info));
}

/** The file as a pass sees it: its identity, and when it last changed (a rename sets its ctime). */
async function fileSeen(path: string): Promise<{ identity?: string; changedAt?: number }> {
  const info = await stat(path).catch(() => undefined);
  return info ? { identity: identity(info), changedAt: Math.max(info.mtimeMs, info.ctimeMs) } : {};
}

/**
 * A change the watcher had this long to announce and did not is a miss: twice its longest batch (500 ms). A net that
 * happens to run just after a rotation, before its event arrived, finds work but does not count it.
 */
const ANNOUNCE_WITHIN_MS = 1000;

/** A regular expression for @parcel/watcher's `ignore` that keeps only the one entry `name` of the watched directory. */
const onlyEntry = (name: string) => new RegExp(`^(?!${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$)`);

/**
 * The resident service: watch the credentials directory (and its parent, to notice the directory replaced), sync on
 * change; safety nets whatever the watcher sees: a look after every watcher callback, a pass shortly before the
 * token the targets hold expires, one after each refresh trigger of our own, and a rare reconcile.
 */
export function createWatchService(config: Config, deps: WatchDeps) {
  const events = deps.watcher === undefined ? watcher : deps.watcher;
  const startMounts = deps.mounts === undefined ? watchMounts : deps.mounts;
  let subscriptions: AsyncSubscription[] = [];
  let mounts: { stop(): Promise<unknown> } | undefined;
  let watchedDir: string | undefined;
  let stopped = false;
  let halfWrittenTries = 0;
  const timers = {
    reconcile: undefined as Timer | undefined,
    retry: undefined as Timer | undefined,
    look: undefined as Timer | undefined,
    expiry: undefined as Timer | undefined,
    trigger: undefined as Timer | undefined,
    mountsReady: undefined as Timer | undefined,
    collect: undefined as Timer | undefined,
  };
  const lastLogged = new Map<string, string>();
  let syncCount = 0;
  let reasons = new Set<PassReason>();
  /** The credentials file as the last pass saw it (stat identity), and the token it read. */
  let seenFile: string | undefined;
  let seenFingerprint: string | undefined;
  /** Expiry of the token every target holds (from the last pass that brought them all in line). */
  let heldExpiresAt: number | undefined;
  let expiryLookedAt = 0;
  let missed = 0;
  let directoryCheck: Promise<void> = Promise.resolve();

  const runPass = async () => {
    if (stopped) return;
    const why = reasons;
    reasons = new Set();
    if (!why.has("event") && !why.has("start")) await checkDirectory(false);
    const seen = await fileSeen(config.credentials);
    seenFile = seen.identity;
    const fileChangedAt = seen.changedAt;
    // Never rejects: each stage inside contains its own failure (src/sync/engine.ts).
    const report = await syncOnce(config, deps);
    syncCount++;
    logReport(report, lastLogged);
    if (report.source.ok) {
      const fp = fingerprint(report.source.credentials.accessToken);
      // The look has already waited out the watcher (the same unannounced file seen twice, 600 ms apart).
      const announcedLate = !why.has("look") && fileChangedAt !== undefined && Date.now() - fileChangedAt < ANNOUNCE_WITHIN_MS;
      const net = announcedLate ? undefined : missedBy(why, seenFingerprint !== undefined && fp !== seenFingerprint, report.changed);
      seenFingerprint = fp;
      if (report.ok) heldExpiresAt = report.source.credentials.expiresAt;
      if (net) await recordMiss(net, fp);
    }
    scheduleExpiry();
    if (!report.source.ok && report.source.reason === "malformed" && halfWrittenTries < HALF_WRITTEN_RETRIES) {
      halfWrittenTries++;
      return scheduleRetry(HALF_WRITTEN_DELAY_MS);
    }
    halfWrittenTries = 0;
    if (report.outcomes.some((o) => o.status === "failed")) scheduleRetry(config.watch.retrySeconds * 1000);
    await deps.afterSync?.(report);
    scheduleCollect();
  };
  const queue = serialRunner(runPass, {
    onError: (error) => {
      logger.error(`watch: the pass failed (the service carries on): ${oneLine(error)}`);
      scheduleRetry(config.watch.retrySeconds * 1000);
    },
  });

  /** Ask for a pass: after the quiet period (events) or at once (everything else). */
  function request(reason: PassReason) {
    if (stopped) return;
    reasons.add(reason);
    if (reason === "event") queue.settle(config.watch.quietMs, config.watch.maxDelayMs);
    else queue.runNow();
  }

  async function recordMiss(net: PassReason, fp: string) {
    missed++;
    logger.warn(`the ${net} pass found token ${fp} that no file event announced: written now (${missed} since start)`);
    await updateState(config.stateDir, (state) => {
      const previous = state.watch?.missed ?? 0;
      state.watch = { missed: previous + 1, lastMissedAt: new Date(deps.now()).toISOString(), lastMissedBy: net };
    }).catch((error) => logger.warn(`state: ${error?.message ?? error}`));
  }

  /**
   * A full garbage collection once things have been quiet for a while after passes: the heap a burst of rotations
   * grew is given back while the service waits for hours. Only after activity, so idle time pays nothing.
   */
  function scheduleCollect() {
    clearTimeout(timers.collect);
    if (stopped) return;
    timers.collect = setTimeout(() => Bun.gc(true), COLLECT_AFTER_MS);
    timers.collect.unref(); // never what keeps a stopping process alive
  }

  function scheduleRetry(ms: number) {
    clearTimeout(timers.retry);
    if (stopped) return;
    timers.retry = setTimeout(() => request("retry"), ms);
  }

  /**
   * One stat a moment after a watcher callback: a rename whose event was lost shows as a file that no pass has read.
   * Its event may merely be on its way (a new rotation inside the watcher's batch): so the same file must be seen
   * again one delay later, still unread, before a pass runs for it. A file changed in between looks again.
   */
  function scheduleLook(suspect?: string) {
    if (stopped || (timers.look && !suspect)) return;
    clearTimeout(timers.look);
    timers.look = setTimeout(async () => {
      timers.look = undefined;
      const now = await statIdentity(config.credentials, true);
      if (now === seenFile) return;
      if (now === suspect) request("look");
      else scheduleLook(now);
    }, LOOK_DELAY_MS);
  }

  function scheduleExpiry() {
    clearTimeout(timers.expiry);
    const at = nextExpiryCheck(heldExpiresAt, Math.max(deps.now(), expiryLookedAt), config.watch.expiryChecksSeconds);
    if (at === undefined || stopped) return;
    timers.expiry = setTimeout(() => {
      if (deps.now() < at) return scheduleExpiry();
      expiryLookedAt = at;
      request("expiry");
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - deps.now())));
  }

  const onEvents = (error: Error | null, batch: Event[]) => {
    if (error) logger.warn(`watcher: ${error.message}`);
    const name = basename(config.credentials);
    if (batch.some((event) => basename(event.path) === name)) request("event");
    scheduleLook();
  };

  /** The parent's events: only ones about the credentials directory's own entry (created, removed, renamed). */
  const onParentEvents = (error: Error | null) => {
    if (error) logger.warn(`watcher (parent): ${error.message}`);
    void checkDirectory(true);
  };

  async function subscribe(warnMissing = true) {
    await unsubscribe();
    if (!events) return;
    const dir = dirname(config.credentials);
    const parent = dirname(dir);
    // Not "/": @parcel/watcher's ignore rules see no relative paths under it and it would watch the whole tree.
    if (parent !== dir && parent !== "/") {
      const parentSub = await events.subscribe(parent, onParentEvents, { backend: "inotify", ignore: [onlyEntry(basename(dir))] }).catch((error) => {
        logger.warn(`cannot watch ${parent} (${error?.message ?? error}): a replaced ${dir} is noticed at the next safety-net pass`);
        return undefined;
      });
      if (parentSub) subscriptions.push(parentSub);
    }
    const info = await stat(dir).catch(() => undefined);
    if (!info) {
      if (warnMissing) logger.warn(`${dir} does not exist (yet): waiting for it to appear`);
      return;
    }
    // Only the directory's own entries: Claude Code writes transcripts and caches in its subdirectories all day.
    subscriptions.push(await events.subscribe(dir, onEvents, { backend: "inotify", ignore: [/\//] }));
    watchedDir = dirIdentity(info);
    logger.debug(`watching ${dir}`);
  }

  async function unsubscribe() {
    const current = subscriptions;
    subscriptions = [];
    watchedDir = undefined;
    for (const sub of current) await sub.unsubscribe().catch(() => {});
  }

  /**
   * inotify follows the inode: a directory deleted and recreated, renamed away or mounted over needs a new
   * subscription. Asked by the parent's events, the mount monitor and every safety-net pass; never on a timer.
   */
  function checkDirectory(passAfter: boolean): Promise<void> {
    // One at a time: a rename sends two events, a mount two lines, and two subscribe()s at once would tangle.
    directoryCheck = directoryCheck.then(() => replaceWatchIfMoved(passAfter)).catch((error) => logger.warn(`watcher: ${error?.message ?? error}`));
    return directoryCheck;
  }

  async function replaceWatchIfMoved(passAfter: boolean) {
    if (stopped || !events) return;
    const dir = dirname(config.credentials);
    const now = await statIdentity(dir, false);
    const replaced = now ? now !== watchedDir : subscriptions.length > 0 && watchedDir !== undefined;
    if (!replaced) return;
    logger.info(now ? `${dir} was replaced: watching it again` : `${dir} is gone: waiting for it to appear`);
    await subscribe(Boolean(now));
    // The directory may have appeared while subscribing: whatever was written before the watch began is read now.
    if (passAfter && watchedDir) request("directory");
  }

  function onMountChange(target: string) {
    const dir = dirname(config.credentials);
    if (dir === target || dir.startsWith(target.endsWith("/") ? target : `${target}/`)) void checkDirectory(true);
  }

  function startTimers() {
    timers.reconcile = setInterval(() => request("reconcile"), config.watch.reconcileSeconds * 1000);
  }

  function stopTimers() {
    for (const timer of Object.values(timers)) clearTimeout(timer);
    timers.look = undefined;
  }

  return {
    async start() {
      // findmnt first: its start-up is over before the first events arrive.
      if (events) mounts = startMounts?.(onMountChange);
      await subscribe();
      // findmnt reports changes after it has read the mount table once: a mount in that first moment is looked for
      // once, a second later (a single look at start, not a poll).
      if (mounts) timers.mountsReady = setTimeout(() => void checkDirectory(true), MOUNTS_READY_MS);
      startTimers();
      request("start");
      await queue.idle();
    },
    /** A refresh trigger of our own just ran: make sure its rotation lands even if the watcher misses it. */
    afterTrigger() {
      clearTimeout(timers.trigger);
      if (!stopped) timers.trigger = setTimeout(() => request("trigger"), AFTER_TRIGGER_DELAY_MS);
    },
    async stop() {
      stopped = true;
      stopTimers();
      const mountsStopped = mounts?.stop();
      await queue.stop();
      // A directory check under way could subscribe again after we unsubscribed: let it finish first.
      await directoryCheck;
      await unsubscribe();
      await mountsStopped;
    },
    get syncCount() {
      return syncCount;
    },
    /** Passes (since start) that found a rotation no file event announced. */
    get missed() {
      return missed;
    },
  };
}
