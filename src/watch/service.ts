import { statSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { fingerprint } from "../log/redact.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import { noAlerts } from "../notify/alerts.ts";
import { runPass } from "../pass/pipeline.ts";
import { backoffMs } from "../schedule/backoff.ts";
import { serialRunner, type Clock } from "../schedule/runner.ts";
import { readSource, type PassSource, type SyncDeps, type SyncReport } from "../sync/engine.ts";
import { logReport, problemMemory } from "../sync/report.ts";
import { missedBy, nextExpiryCheck, type PassReason } from "./expiry.ts";
import { watchMounts } from "./mounts.ts";
import { watcher, type AsyncSubscription, type Event, type Watcher } from "./native.ts";
import { watchSection } from "./record.ts";
import { stateWriteFailed } from "../state/store.ts";

/** Why the service's runner runs a turn: a pass, or one of the service's own chores (which may lead to a pass). */
export type WatchReason = PassReason | "subscribe" | "steady" | "mounts" | "collect";

export interface WatchDeps extends SyncDeps {
  /**
   * One pass from the credentials just read, and what follows it: the daemon runs the pipeline there (src/pass/).
   * Default: the targets alone (no reload, no push), logged.
   */
  pass?: (source: PassSource, reasons: ReadonlySet<PassReason>) => Promise<SyncReport>;
  /** The file events: @parcel/watcher by default; null starts no watcher at all (a test seam: only the safety nets run). */
  watcher?: Watcher | null;
  /** The mount-table monitor (findmnt --poll by default); null starts none. */
  mounts?: typeof watchMounts | null;
  /** The runner's timers (a fake clock in tests). */
  clock?: Clock;
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
/** Long waits wake at least this often to look at the clock: a suspended machine's timers run late. */
const MAX_SLEEP_MS = 15 * 60_000;
/** While the watch does not hold: the file is looked at this often, and the watch tried again with this backoff. */
export const BLIND_LOOK_MS = 1000;
const RESUBSCRIBE = { firstMs: 250, lastMs: 5000 };
/** A watch that failed counts as holding again (log, `status`) once it has held this long: churn is one episode. */
const STEADY_AFTER_MS = 5000;
/** "gone" and "replaced" are logged at most this often (a directory renamed back and forth in a loop says it once). */
const DIRECTORY_LOG_EVERY_MS = 10_000;

function identity(info: { dev: number; ino: number; birthtimeMs: number; mtimeMs: number; size: number; ctimeMs: number }): string {
  return `${info.dev}:${info.ino}:${info.birthtimeMs}:${info.mtimeMs}:${info.size}:${info.ctimeMs}`;
}

/** The same directory: device, inode and birth time (ext4 hands a freed inode number straight back). */
const dirIdentity = (info: { dev: number; ino: number; birthtimeMs: number }) => `${info.dev}:${info.ino}:${info.birthtimeMs}`;

/** Synchronous: a stat is a few microseconds, a trip through the thread pool costs more than that on every pass. */
const statQuietly = (path: string) => {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
};

function statIdentity(path: string, full: boolean): string | undefined {
  const info = statQuietly(path);
  return info && (full ? identity(info) : dirIdentity(info));
}

/** The file as a pass sees it: its identity, and when it last changed (a rename sets its ctime). */
function fileSeen(path: string): { identity?: string; changedAt?: number } {
  const info = statQuietly(path);
  return info ? { identity: identity(info), changedAt: Math.max(info.mtimeMs, info.ctimeMs) } : {};
}

/**
 * A change the watcher had this long to announce and did not is a miss: twice its longest batch (500 ms). A net that
 * happens to run just after a rotation, before its event arrived, finds work but does not count it.
 */
const ANNOUNCE_WITHIN_MS = 1000;

/** A regular expression for @parcel/watcher's `ignore` that keeps only the one entry `name` of the watched directory. */
const onlyEntry = (name: string) => new RegExp(`^(?!${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$)`);

/** Reasons that are the service's own chores: turns asked only by these run no pass unless they find work. */
const CHORES: ReadonlySet<WatchReason> = new Set(["subscribe", "steady", "directory", "mounts", "collect", "look", "poll", "expiry"]);

/**
 * The resident service: watch the credentials directory (and its parent, to notice the directory replaced), sync on
 * change. Everything it does is a request with a reason on one runner (src/schedule/runner.ts): the passes, and the
 * safety nets whatever the watcher sees (a look after every watcher callback, a pass shortly before the token the
 * targets hold expires, one after each refresh trigger of our own, a retry of failed targets, a rare reconcile), the
 * watch set up again when it was lost (retried with backoff until it holds, the file looked at every second meanwhile)
 * and a garbage collection after activity. No timer of its own.
 */
export function createWatchService(config: Config, deps: WatchDeps) {
  const events = deps.watcher === undefined ? watcher : deps.watcher;
  const startMounts = deps.mounts === undefined ? watchMounts : deps.mounts;
  const dir = dirname(config.credentials);
  const parent = dirname(dir);
  const memory = problemMemory();
  const pass =
    deps.pass ??
    (async (source: PassSource) =>
      (await runPass(config, source, { reload: "skip", push: "skip" }, {
        sync: deps,
        reloads: { mark: async () => 0, now: async () => undefined, owed: async () => undefined, request() {}, retryIfOwed() {} },
        pushes: { offer() {}, everywhere: async () => [] },
        alerts: noAlerts,
        log: (report) => logReport(report, memory, deps.now()),
      })).report);

  let subscriptions: AsyncSubscription[] = [];
  let mounts: { stop(): Promise<unknown> } | undefined;
  /** The watched directory's identity; undefined while it is not watched. */
  let watchedDir: string | undefined;
  /** A parent event or a watcher error: the kernel watch behind the subscription may be gone (set it up again). */
  let doubt = false;
  /** The watch does not hold: since when, why, and how many tries so far. */
  let blind: { since: number; reason: string; tries: number } | undefined;
  /** The episode told (log, state file): set at its first failure, ended once the watch has held STEADY_AFTER_MS. */
  let told: { since: number; tries: number; heldAt?: number } | undefined;
  let directoryLoggedAt = -Infinity;
  let stopped = false;
  let halfWrittenTries = 0;
  let syncCount = 0;
  /** The credentials file as the last pass saw it (stat identity), and the token it read. */
  let seenFile: string | undefined;
  let seenFingerprint: string | undefined;
  /** A file the look found that no pass has read: a pass runs if it is still the same one a look later. */
  let suspect: string | undefined;
  /** Expiry of the token every target holds (from the last pass that brought them all in line). */
  let heldExpiresAt: number | undefined;
  let expiryAt: number | undefined;
  let expiryLookedAt = 0;
  let missed = 0;
  let started: (() => void) | undefined;

  const runner = serialRunner<WatchReason>(turn, {
    clock: deps.clock,
    maxSleepMs: MAX_SLEEP_MS,
    onError: (error) => {
      logger.error(`watch: the pass failed (the service carries on): ${oneLine(error)}`);
      runner.request("retry", config.watch.retrySeconds * 1000);
    },
  });

  async function turn(due: ReadonlySet<WatchReason>) {
    try {
      if (stopped) return;
      const why = new Set<PassReason>();
      for (const reason of due) if (!CHORES.has(reason)) why.add(reason as PassReason);
      if (due.has("reconcile")) runner.request("reconcile", config.watch.reconcileSeconds * 1000);
      // Every turn but a plain event's checks the watch: a safety net that finds work may have found a lost watch.
      // While it does not hold, only its own retry (with its backoff) or a change of the directory tries again.
      const plain = due.size === 1 && (due.has("event") || due.has("collect"));
      const mayRetry = !blind || due.has("subscribe") || due.has("directory");
      if (!plain && mayRetry && (await ensureWatch())) why.add("directory");
      if (due.has("expiry") && expiryAt !== undefined) {
        expiryLookedAt = expiryAt;
        why.add("expiry");
      }
      if (due.has("look") && (await lookFound())) why.add("look");
      if (due.has("steady") && told && !blind) {
        logger.info(`watching ${dir} again (${told.tries} failed tries, ${(((told.heldAt ?? deps.now()) - told.since) / 1000).toFixed(1)} s without a watch)`);
        told = undefined;
        await recordBlind(undefined);
      }
      if (due.has("poll")) {
        if (blind) runner.request("poll", BLIND_LOOK_MS);
        const now = statIdentity(config.credentials, true);
        if (now !== undefined && now !== seenFile) why.add("poll");
      }
      if (why.size > 0) await syncPass(why);
      else if (due.has("collect")) Bun.gc(true);
    } finally {
      if (due.has("start")) started?.();
    }
  }

  async function syncPass(why: Set<PassReason>) {
    const seen = fileSeen(config.credentials);
    seenFile = seen.identity;
    suspect = undefined;
    const fileChangedAt = seen.changedAt;
    logger.debug(`pass (${[...why].join(", ")})`);
    // Never rejects: each stage inside contains its own failure (src/sync/engine.ts, src/pass/pipeline.ts).
    const report = await pass(await readSource(config.credentials, deps), why);
    syncCount++;
    if (report.source.ok) {
      const fp = fingerprint(report.source.credentials.accessToken);
      // The look has already waited out the watcher (the same unannounced file seen twice, 600 ms apart).
      const announcedLate = !why.has("look") && !why.has("poll") && fileChangedAt !== undefined && Date.now() - fileChangedAt < ANNOUNCE_WITHIN_MS;
      const net = announcedLate ? undefined : missedBy(why, seenFingerprint !== undefined && fp !== seenFingerprint, report.changed);
      seenFingerprint = fp;
      if (report.ok) heldExpiresAt = report.source.credentials.expiresAt;
      if (net) await recordMiss(net, fp);
    }
    scheduleExpiry();
    if (!report.source.ok && report.source.reason === "malformed" && halfWrittenTries < HALF_WRITTEN_RETRIES) {
      halfWrittenTries++;
      runner.request("retry", HALF_WRITTEN_DELAY_MS);
    } else {
      halfWrittenTries = 0;
      if (report.outcomes.some((o) => o.status === "failed")) runner.request("retry", config.watch.retrySeconds * 1000);
    }
    // A full garbage collection once things have been quiet for a while after passes that wrote: the heap a burst of
    // rotations grew is given back while the service waits for hours. A net that found everything in place (the
    // reconcile every half hour, an expiry checkpoint) asks for none, so idle time pays nothing.
    if (report.changed) runner.request("collect", COLLECT_AFTER_MS);
  }

  async function recordMiss(net: PassReason, fp: string) {
    missed++;
    logger.warn(`the ${net} pass found token ${fp} that no file event announced: written now (${missed} since start)`);
    await watchSection
      .update(config.stateDir, (mine) => {
        mine.watch = { ...mine.watch, missed: (mine.watch?.missed ?? 0) + 1, lastMissedAt: new Date(deps.now()).toISOString(), lastMissedBy: net };
      })
      .catch(stateWriteFailed);
  }

  /**
   * One stat a moment after a watcher callback: a rename whose event was lost shows as a file that no pass has read.
   * Its event may merely be on its way (a new rotation inside the watcher's batch): so the same file must be seen
   * again one delay later, still unread, before a pass runs for it. A file changed in between looks again.
   */
  async function lookFound(): Promise<boolean> {
    const now = statIdentity(config.credentials, true);
    if (now === undefined || now === seenFile) {
      suspect = undefined;
      return false;
    }
    if (now === suspect) return true;
    suspect = now;
    runner.request("look", LOOK_DELAY_MS);
    return false;
  }

  function scheduleExpiry() {
    expiryAt = nextExpiryCheck(heldExpiresAt, Math.max(deps.now(), expiryLookedAt), config.watch.expiryChecksSeconds);
    if (expiryAt === undefined) runner.cancel("expiry");
    else runner.request("expiry", expiryAt - deps.now());
  }

  const onEvents = (error: Error | null, batch: Event[]) => {
    if (error) lost(`watcher: ${error.message}`);
    const name = basename(config.credentials);
    if (batch.some((event) => basename(event.path) === name)) {
      // The watcher has batched for ~50 ms already: with no quiet period of our own the pass starts here and now.
      if (config.watch.quietMs === 0) runner.runNow("event");
      else runner.settleFor("event", config.watch.quietMs, config.watch.maxDelayMs);
    }
    runner.requestUnlessDue("look", LOOK_DELAY_MS);
  };

  /**
   * The parent's events: only ones about the credentials directory's own entry (created, removed, renamed). Each one
   * puts the watch in doubt: @parcel/watcher drops every subscription's kernel watch of a directory moved away, and
   * one moved back (same inode) is watched again for the parent only.
   */
  const onParentEvents = (error: Error | null) => {
    if (error) logger.debug(`watcher (parent): ${error.message}`);
    doubt = true;
    runner.request("directory", 0);
  };

  /** The watcher said something went wrong: set the watch up again (an error callback may be its last). */
  function lost(why: string) {
    if (blind) logger.debug(why);
    else logger.warn(`${why}: watching ${dir} again`);
    doubt = true;
    runner.request("subscribe", 0);
  }

  /**
   * inotify follows the inode: a directory deleted and recreated, renamed away or mounted over needs a new
   * subscription, and so does one the watcher may have lost. Returns true when the watch was set up again after a
   * change the file events may not have announced (a pass is due then).
   */
  async function ensureWatch(): Promise<boolean> {
    if (stopped || !events) return false;
    const now = statIdentity(dir, false);
    const holding = !blind && !doubt && (now === undefined ? subscriptions.length > 0 && watchedDir === undefined : now === watchedDir);
    if (holding) return false;
    const first = subscriptions.length === 0 && !blind && !doubt && watchedDir === undefined;
    if (!first && !blind) {
      const line = !now ? `${dir} is gone: waiting for it to appear` : now !== watchedDir ? `${dir} was replaced: watching it again` : undefined;
      if (line && deps.now() - directoryLoggedAt >= DIRECTORY_LOG_EVERY_MS) {
        directoryLoggedAt = deps.now();
        logger.info(line);
      } else logger.debug(line ?? `watching ${dir} again (the watcher may have lost it)`);
    }
    doubt = false;
    const problem = await subscribe();
    if (problem) {
      goBlind(problem);
      return false;
    }
    if (blind) {
      logger.debug(`watching ${dir} again after ${blind.tries} tries`);
      blind = undefined;
      if (told) told.heldAt = deps.now();
      runner.cancel("poll");
      runner.cancel("subscribe");
      runner.request("steady", STEADY_AFTER_MS);
    }
    // A record of a watch that did not hold, left by the service before this one (stopped within the episode).
    if (first && !told) void recordBlind(undefined);
    if (watchedDir === undefined) {
      if (first) logger.warn(`${dir} does not exist (yet): waiting for it to appear`);
      return false;
    }
    // The directory may have changed while it was not watched: what was written before the watch began is read now.
    return !first && (statIdentity(config.credentials, true)) !== seenFile;
  }

  /** The watch does not hold: try again with backoff until it does, and look at the file every second meanwhile. */
  function goBlind(problem: string) {
    blind ??= { since: deps.now(), reason: problem, tries: 0 };
    blind.tries++;
    blind.reason = problem;
    runner.cancel("steady");
    const retry = backoffMs(blind.tries, RESUBSCRIBE);
    if (told) {
      told.tries++;
      logger.debug(`cannot watch ${dir} yet (${problem}); next try in ${retry} ms`);
    } else {
      told = { since: blind.since, tries: 1 };
      logger.warn(`cannot watch ${dir} (${problem}): looking at the file every ${BLIND_LOOK_MS / 1000} s and trying again`);
      void recordBlind(blind);
    }
    runner.request("subscribe", retry);
    runner.requestUnlessDue("poll", BLIND_LOOK_MS);
  }

  /**
   * `status` shows a watch that does not hold (the record is written when that starts and ends, not at each try). An
   * end clears a record an earlier service left too; with none there it writes nothing.
   */
  function recordBlind(state: { since: number; reason: string } | undefined): Promise<void> {
    return watchSection
      .update(config.stateDir, (mine) => {
        if (!state && !mine.watch?.blind) return;
        const { blind: _previous, ...rest } = mine.watch ?? {};
        mine.watch = state ? { ...rest, blind: { since: new Date(state.since).toISOString(), reason: state.reason } } : rest;
      })
      .catch(stateWriteFailed);
  }

  /** The parent first, then the directory's own entries; a failure of either is a problem (undefined: it holds). */
  async function subscribe(): Promise<string | undefined> {
    await unsubscribe();
    if (!events) return undefined;
    try {
      // Not "/": @parcel/watcher's ignore rules see no relative paths under it and it would watch the whole tree.
      if (parent !== dir && parent !== "/") {
        subscriptions.push(await events.subscribe(parent, onParentEvents, { backend: "inotify", ignore: [onlyEntry(basename(dir))] }));
      }
      const info = statQuietly(dir);
      if (!info) return undefined;
      // Only the directory's own entries: Claude Code writes transcripts and caches in its subdirectories all day.
      subscriptions.push(await events.subscribe(dir, onEvents, { backend: "inotify", ignore: [/\//] }));
      watchedDir = dirIdentity(info);
      logger.debug(`watching ${dir}`);
      return undefined;
    } catch (error) {
      await unsubscribe();
      return oneLine(error);
    }
  }

  async function unsubscribe() {
    const current = subscriptions;
    subscriptions = [];
    watchedDir = undefined;
    for (const sub of current) await sub.unsubscribe().catch(() => {});
  }

  function onMountChange(target: string) {
    if (dir === target || dir.startsWith(target.endsWith("/") ? target : `${target}/`)) runner.request("directory", 0);
  }

  return {
    async start() {
      // findmnt first: its start-up is over before the first events arrive.
      if (events) mounts = startMounts?.(onMountChange);
      const first = new Promise<void>((resolve) => (started = resolve));
      runner.request("reconcile", config.watch.reconcileSeconds * 1000);
      // findmnt reports changes after it has read the mount table once: a mount in that first moment is looked for
      // once, a second later (a single look at start, not a poll).
      if (mounts) runner.request("mounts", MOUNTS_READY_MS);
      runner.runNow("start");
      await first;
    },
    /** A refresh trigger of our own just ran: make sure its rotation lands even if the watcher misses it. */
    afterTrigger() {
      runner.request("trigger", AFTER_TRIGGER_DELAY_MS);
    },
    async stop() {
      stopped = true;
      const mountsStopped = mounts?.stop();
      // The turn under way may subscribe: it finishes before the watch is taken down.
      await runner.stop();
      await unsubscribe();
      await mountsStopped;
      started?.();
    },
    get syncCount() {
      return syncCount;
    },
    /** Passes (since start) that found a rotation no file event announced. */
    get missed() {
      return missed;
    },
    /** Since when (epoch ms) and why the watch does not hold; undefined while it does. */
    get blind(): { since: number; reason: string } | undefined {
      return blind && { since: blind.since, reason: blind.reason };
    },
    /** The episode `status` shows: from the first failure until the watch has held a few seconds. */
    get told(): { since: number; tries: number } | undefined {
      return told && { ...told };
    },
    /** What the runner is asked to do, and when: the safety nets with their reasons. */
    get pending(): ReadonlyMap<WatchReason, number> {
      return runner.pending;
    },
  };
}
