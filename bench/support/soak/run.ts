import { rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fakeToken, removeSandbox, rotate, waitForToken } from "../../../src/demo/sandbox.ts";
import { redact } from "../../../src/log/redact.ts";
import { faults, FAULT_KINDS, type FaultContext, type FaultKind, type SyncRun } from "./faults.ts";
import { createSoakLayout } from "./layout.ts";
import { probeLock, sh, unfill } from "./locks.ts";
import { seeded } from "./prng.ts";
import { gatewayRuns, holders, problemLines, quarters, served, tally, tempFiles } from "./measure.ts";
import { startSampler } from "./sampler.ts";
import { supervise, vmRssKb } from "./supervisor.ts";

const HOUR = 3_600_000;
const CONVERGE_TIMEOUT_MS = 30_000;
const GATEWAY_WAIT_MS = 5000;
const WARM_UP_ROTATIONS = 100;

export interface SoakOptions {
  steps: number;
  seed: number;
  /** Share of steps that are a fault (the others are plain rotations). */
  faultShare?: number;
  sampleEveryMs?: number;
  /** Fault kinds left out on purpose. */
  without?: FaultKind[];
  progress?: (line: string) => void;
  /**
   * Read the RSS of a settled service at both ends: after a warm-up of plain rotations and at the end, each time left
   * idle this long first (its own full GC runs 10 s after the last pass). 0: no idle reads.
   */
  idleMs?: number;
  /** Write the service's whole output (tokens redacted) and the failed `sync` runs' output here. */
  logFile?: string;
}

/**
 * The soak: the compiled binary's `watch` on real files, N steps of rotations mixed with faults chosen by a seeded
 * PRNG, a sampler judging every read of every target, and a supervisor restarting the service like systemd.
 */
export async function runSoak(options: SoakOptions) {
  const rng = seeded(options.seed);
  const unavailable: Partial<Record<FaultKind, string>> = {};
  for (const kind of options.without ?? []) unavailable[kind] = "left out (--without)";
  const { sandbox, stateDir, tmpfsDir, tmpfs, gatewayFlag, targets } = await createSoakLayout();
  if (!tmpfs.ok) unavailable["full-disk"] ??= tmpfs.reason;

  // Logins in the order written: a token's rank is its place, and expiry grows with it.
  const ranks = new Map<string, number>();
  const base = Date.now() + 8 * HOUR;
  let rotations = 0;
  const nextLogin = () => {
    const token = fakeToken();
    ranks.set(token, rotations);
    return { token, expiresAt: base + rotations++ * 1000 };
  };
  const rotateNext = async () => {
    const login = nextLogin();
    await rotate(sandbox, login.token, login.expiresAt);
    return login.token;
  };
  const paths = targets.map((t) => t.path);
  const supervisor = supervise(["watch", "--config", sandbox.configPath], () => rotations);
  const active = new Set<string>();
  const syncRuns: SyncRun[] = [];
  const faultCounts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const began = performance.now();
  let sampler: ReturnType<typeof startSampler> | undefined;

  try {
    const first = await rotateNext();
    supervisor.begin();
    await waitForToken(paths, first, 15_000);
    const firstLife = supervisor.incarnations[0]!;
    firstLife.rssFirstKb = vmRssKb(firstLife.pid) ?? firstLife.rssFirstKb;
    const rssIdleStartKb = options.idleMs ? await settledRss(supervisor, options.idleMs, async () => {
      let token = first;
      for (let i = 0; i < WARM_UP_ROTATIONS; i++) {
        token = await rotateNext();
        await Bun.sleep(20);
      }
      await waitForToken(paths, token, 15_000);
    }) : undefined;

    const stateLock = await probeLock(stateDir);
    if (!stateLock.ok) unavailable["immutable-state"] ??= stateLock.reason;
    const targetLock = await probeLock(sandbox.files.authProfiles);
    if (!targetLock.ok) unavailable["read-only-target"] ??= targetLock.reason;
    const ctx: FaultContext = {
      rng,
      credentials: sandbox.credentials,
      stateDir,
      lockableTargets: [sandbox.files.authProfiles, sandbox.files.oauthJson, sandbox.files.envFile],
      stateLock: stateLock.ok ? stateLock.method : undefined,
      targetLock: targetLock.ok ? targetLock.method : undefined,
      tmpfsDir: tmpfs.ok ? tmpfsDir : undefined,
      gatewayFlag,
      configPath: sandbox.configPath,
      supervisor,
      rotateNext,
      nextLogin,
      syncRuns,
      active,
    };
    const kinds = FAULT_KINDS.filter((k) => !unavailable[k]);
    const firstRound = rng.shuffle(kinds);
    sampler = startSampler(targets, { intervalMs: options.sampleEveryMs ?? 3, rank: (t) => ranks.get(t), during: () => [...active].join("+") || "rotations" });

    for (let step = 1; step <= options.steps; step++) {
      if (kinds.length && rng.chance(options.faultShare ?? 0.35)) {
        // Every kind once first, in a seeded order, so that a short run meets them all.
        const kind = firstRound.shift() ?? rng.pick(kinds);
        faultCounts[kind]++;
        active.add(kind);
        try {
          await faults[kind](ctx);
        } finally {
          active.delete(kind);
        }
      } else {
        await rotateNext();
      }
      await Bun.sleep(gapMs(rng.next(), rng.next()));
      if (step % 500 === 0) {
        options.progress?.(`step ${step}/${options.steps}: ${rotations} rotations, ${supervisor.ownExits.length} own exits, ${JSON.stringify(sampler.counts)}, ${Math.round((performance.now() - began) / 1000)} s`);
      }
    }

    // The faults have stopped (each undoes itself). One last rotation once the service is up: how long until every
    // target holds it.
    const upWaited = performance.now();
    await supervisor.ready();
    const serviceUpAfterMs = performance.now() - upWaited;
    const gatewayRunsBefore = (await gatewayRuns(sandbox.root)).runs;
    const last = await rotateNext();
    const written = performance.now();
    const convergeMs = await waitForToken(paths, last, CONVERGE_TIMEOUT_MS, written).catch(() => undefined);
    const notConverged = convergeMs === undefined ? await holders(paths, last) : [];
    // The targets changed, so the gateway is owed a reload (settleSeconds 0.05): does it still get one?
    let gatewayAfterLastMs: number | undefined;
    while (gatewayAfterLastMs === undefined && performance.now() - written < GATEWAY_WAIT_MS) {
      if (((await gatewayRuns(sandbox.root)).runs) > gatewayRunsBefore) gatewayAfterLastMs = performance.now() - written;
      else await Bun.sleep(10);
    }
    await Bun.sleep(300);
    const rssIdleEndKb = options.idleMs ? await settledRss(supervisor, options.idleMs, async () => {}) : undefined;
    sampler.stop();
    const stopCode = await supervisor.stop();
    const elapsedMs = performance.now() - began;

    const outputs = [supervisor.output(), ...syncRuns.map((r) => r.output)];
    const failedSyncs = syncRuns.filter((r) => r.code !== 0).map((r) => redact(r.output).trim());
    if (options.logFile) {
      const log = [...supervisor.incarnations.map((i) => `=== pid ${i.pid} ===\n${i.running.output()}`), ...failedSyncs.map((o) => `=== failed sync ===\n${o}\n`)];
      await writeFile(options.logFile, redact(log.join("")));
    }
    const tokenLines = outputs.flatMap((o) => o.split("\n")).filter((line) => line.includes("sk-ant-"));
    const tempFilesLeft = await tempFiles([...new Set([...paths.map((p) => dirname(p)), stateDir])]);
    const gateway = await gatewayRuns(sandbox.root);
    const lives = supervisor.incarnations;
    const longest = lives.reduce((a, b) => (served(b, rotations) > served(a, rotations) ? b : a));
    return {
      seed: options.seed,
      steps: options.steps,
      rotations,
      faults: faultCounts,
      unavailable,
      reads: sampler.reads(),
      counts: sampler.counts,
      anomalies: sampler.anomalies,
      ownExits: supervisor.ownExits,
      killsByUs: supervisor.kills(),
      incarnations: lives.length,
      stopCode,
      tokenLines: tokenLines.length,
      tokenLineExamples: tokenLines.slice(0, 3).map(redact),
      tempFilesLeft,
      serviceUpAfterMs,
      convergeMs,
      notConverged,
      syncRuns: syncRuns.length,
      syncExitCodes: tally(syncRuns.map((r) => String(r.code))),
      failedSyncs,
      gatewayAfterLastMs,
      /** Errors no guard caught: the process-level handler logged them ("unexpected error (kept running)"). */
      escapedErrors: supervisor.output().split("\n").filter((l) => l.includes("unexpected error")).length,
      problems: problemLines(supervisor.output(), sandbox.root),
      gatewayRuns: gateway.runs,
      gatewayFailures: gateway.failures,
      rss: {
        firstStartKb: lives[0]!.rssFirstKb,
        lastEndKb: lives.at(-1)!.rssLastKb,
        longest: { pid: longest.pid, rotations: served(longest, rotations), startKb: longest.rssFirstKb, endKb: longest.rssLastKb, trail: quarters(longest.rssTrail) },
        idle: options.idleMs ? { ms: options.idleMs, warmUp: WARM_UP_ROTATIONS, startKb: rssIdleStartKb, endKb: rssIdleEndKb, sameProcess: supervisor.incarnations.length === 1 } : undefined,
      },
      elapsedMs,
    };
  } finally {
    sampler?.stop();
    await supervisor.stop().catch(() => {});
    await rm(gatewayFlag, { force: true });
    for (const path of [stateDir, ...paths]) {
      await sh(["chattr", "-i", path]);
      while ((await sh(["findmnt", "-n", path])).code === 0 && (await sh(["umount", path])).code === 0);
    }
    if (tmpfs.ok) {
      await unfill(tmpfsDir);
      await sh(["umount", tmpfsDir]);
    }
    await removeSandbox(sandbox);
  }
}

export type SoakResult = Awaited<ReturnType<typeof runSoak>>;

/** Gaps between steps: mostly back-to-back or inside the watcher's 50 ms batch, some after its 500 ms idle. */
function gapMs(r: number, s: number): number {
  if (r < 0.7) return s * 20;
  if (r < 0.95) return 20 + s * 180;
  return 500 + s * 300;
}

/** VmRSS of the running service after `work` and then `idleMs` without rotations. */
async function settledRss(supervisor: ReturnType<typeof supervise>, idleMs: number, work: () => Promise<void>): Promise<number | undefined> {
  await work();
  await Bun.sleep(idleMs);
  const life = supervisor.incarnations.at(-1)!;
  return life.exit ? undefined : vmRssKb(life.pid);
}
