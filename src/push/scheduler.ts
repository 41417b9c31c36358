import type { ClaudeCredentials } from "../credentials/parse.ts";
import { retryMs } from "../gateway/scheduler.ts";
import { logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import { serialRunner } from "../schedule/runner.ts";
import { fingerprint } from "../log/redact.ts";
import type { ProcessRunner } from "../process/run.ts";
import { loadState, stateWriteFailed } from "../state/store.ts";
import { encodeTokenMessage } from "./message.ts";
import { pushOnce, type PushResult } from "./push-once.ts";
import { hostRecord, hostsSection, recordPush, type PushState } from "./record.ts";
import { sshTargetId, type SshTargetConfig } from "../config/ssh.ts";

export interface PushDeps {
  run: ProcessRunner;
  now: () => number;
  random: () => number;
  stateDir: () => string;
  /** Every push's outcome (the alerts keeper counts the failures in a row). */
  onOutcome?: (outcome: PushOutcome) => unknown;
}

export type PushOutcome = Awaited<ReturnType<typeof pushAndRecord>>;

interface Wanted {
  line: string;
  fp: string;
  expiresAt: number;
}

/** Push one token to one host and record the outcome in the state file. */
export async function pushAndRecord(target: SshTargetConfig, wanted: Wanted, deps: Pick<PushDeps, "run" | "now" | "stateDir">, retryInMs?: (failures: number) => number) {
  const id = sshTargetId(target);
  const started = deps.now();
  const result = await pushOnce(target, wanted.line, wanted.fp, deps.run).catch((error): PushResult => ({ kind: "retry", error: String(error?.message ?? error) }));
  const decide = (previous: PushState | undefined) =>
    recordPush(previous, result, wanted.fp, wanted.expiresAt, deps.now(), result.kind === "retry" && retryInMs ? retryInMs((previous?.failures ?? 0) + 1) : undefined);
  let decided: PushState | undefined;
  const record = await hostsSection
    .update(deps.stateDir(), (mine) => {
      const hosts = (mine.hosts ??= {});
      decided = hosts[id] = decide(hosts[id]);
      return decided;
    })
    .catch((error) => {
      stateWriteFailed(error);
      return decided ?? decide(undefined);
    });
  return { id, result, record, ms: deps.now() - started };
}

/**
 * `sync`: one push to every host, all at once; each bounded by its own timeout. `force` (`sync --force`) makes each
 * receiver take the token even where it holds one that expires later: how an operator resets a receiver.
 */
export async function pushEverywhere(targets: SshTargetConfig[], credentials: ClaudeCredentials, deps: Pick<PushDeps, "run" | "now" | "stateDir">, options: { force?: boolean } = {}) {
  const wanted = want(credentials, options.force);
  return Promise.all(targets.map((target) => pushAndRecord(target, wanted, deps)));
}

function want(credentials: ClaudeCredentials, force?: boolean): Wanted {
  return { line: encodeTokenMessage(credentials, { force }), fp: fingerprint(credentials.accessToken), expiresAt: credentials.expiresAt };
}

/**
 * `watch`: one worker per receiving host, each on its own. A new token is pushed to every host at once; a host that
 * is down or slow is retried with backoff (1 s doubling to 5 min) and never holds up the others, nor the sync pass,
 * which does not wait for any push. Each outcome is reported (`onOutcome`): the alerts keeper turns lasting failures into
 * messages.
 */
export function createPushScheduler(deps: PushDeps) {
  const workers = new Map<string, ReturnType<typeof createWorker>>();
  let stopped = false;

  return {
    /** After a good sync pass: the token every host should hold. Returns at once. */
    offer(targets: SshTargetConfig[], credentials: ClaudeCredentials) {
      if (stopped) return;
      // The hosts are the config's, which a scheduler keeps for life (a SIGHUP builds a new one).
      const wanted = want(credentials);
      for (const target of targets) {
        const id = sshTargetId(target);
        let worker = workers.get(id);
        if (!worker) workers.set(id, (worker = createWorker(target, deps)));
        worker.want(wanted);
      }
    },
    /** Resolves when no push is running or due at once (tests, benchmarks). */
    async idle() {
      await Promise.all([...workers.values()].map((w) => w.idle()));
    },
    /** No more pushes; resolves when the ones under way have finished (their ssh has a timeout). */
    async stop() {
      stopped = true;
      await Promise.all([...workers.values()].map((worker) => worker.stop()));
    },
    get hosts() {
      return workers.size;
    },
  };
}

function createWorker(target: SshTargetConfig, deps: PushDeps) {
  const id = sshTargetId(target);
  let wanted: Wanted | undefined;
  /** The token this host is known to hold, or refused: nothing more to do for it. */
  let settled: string | undefined;
  let loaded = false;
  let stopped = false;
  const runner = serialRunner(attempt, {
    onError: (error) => {
      logger.error(`${id}: push: ${oneLine(error)}; next try in a minute`);
      runner.runWithin(60_000);
    },
  });

  async function attempt() {
    if (stopped || !wanted) return;
    if (!loaded) {
      // A restarted service: a host that already holds this token (and owes nothing) is not pushed again.
      loaded = true;
      const record = hostRecord(await loadState(deps.stateDir()), id);
      if (record?.fingerprint && !record.lastError) settled = record.fingerprint;
    }
    const now = wanted!;
    if (settled === now.fp) return;
    const outcome = await pushAndRecord(target, now, deps, (failures) => retryMs(failures, deps.random));
    if (stopped) return;
    const { result, record, ms } = outcome;
    if (result.kind === "held") {
      settled = now.fp;
      logger.success(`${id}: holds token ${now.fp} (${result.detail}, ${ms} ms)`);
    } else {
      if (result.kind === "refused") settled = now.fp;
      if (result.kind === "retry" && wanted?.fp === now.fp) {
        const delay = Math.max(0, Date.parse(record.nextRetryAt ?? "") - deps.now()) || retryMs(record.failures ?? 1, deps.random);
        logger.error(`${id}: push failed (attempt ${record.failures}, next in ${Math.round(delay / 1000)} s): ${result.error}`);
        runner.runIn(delay);
      } else logger.error(`${id}: ${result.error}`);
    }
    await deps.onOutcome?.(outcome);
  }

  return {
    want(token: Wanted) {
      if (wanted?.fp === token.fp) return; // same token: a retry already waits on its backoff
      wanted = token;
      runner.runNow();
    },
    /** Resolves when no push runs (a retry may still be due later). */
    async idle() {
      while (runner.busy) await Bun.sleep(5);
    },
    stop() {
      stopped = true;
      return runner.stop();
    },
  };
}
