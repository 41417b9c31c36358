import { readFileSync } from "node:fs";
import { redact } from "../../../src/log/redact.ts";
import { start, type Running } from "../../../test/support/binary.ts";

/** systemd's default RestartSec. */
const RESTART_DELAY_MS = 100;
const RSS_EVERY_MS = 250;

export interface Incarnation {
  pid: number;
  running: Running;
  /** We sent the signal that ended it (SIGKILL fault, the final SIGTERM). */
  signalledByUs?: NodeJS.Signals;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** VmRSS in kB: the first reading once it had synced, and the latest. */
  rssFirstKb?: number;
  rssLastKb?: number;
  /** VmRSS every 250 ms, with the rotations written so far. */
  rssTrail: Array<{ rotations: number; kb: number }>;
  rotationsAtStart: number;
  rotationsAtEnd?: number;
}

export interface OwnExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its last output lines, tokens redacted. */
  lastLines: string[];
}

export function vmRssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps `oauth-sync watch` running as systemd would (Restart=always, 100 ms apart). Counts the restarts we caused
 * (SIGKILL) apart from the exits the service made on its own, and follows each process's RSS.
 */
export function supervise(args: string[], rotations: () => number) {
  const incarnations: Incarnation[] = [];
  const ownExits: OwnExit[] = [];
  let killsByUs = 0;
  let stopping = false;
  let rssTimer: Timer | undefined;

  const current = () => incarnations.at(-1)!;

  function launch() {
    const running = start(args);
    const life: Incarnation = { pid: running.child.pid!, running, rssTrail: [], rotationsAtStart: rotations() };
    incarnations.push(life);
    running.child.on("exit", (code, signal) => {
      life.exit = { code, signal };
      life.rotationsAtEnd = rotations();
      if (!life.signalledByUs) {
        ownExits.push({ pid: life.pid, code, signal, lastLines: redact(running.output()).trimEnd().split("\n").slice(-15) });
      }
      if (!stopping && !life.signalledByUs) setTimeout(() => !stopping && launch(), RESTART_DELAY_MS);
    });
  }

  function followRss() {
    const life = current();
    if (life.exit || !life.running.output().includes("watching")) return;
    const kb = vmRssKb(life.pid);
    if (kb === undefined) return;
    life.rssFirstKb ??= kb;
    life.rssLastKb = kb;
    life.rssTrail.push({ rotations: rotations(), kb });
  }

  return {
    incarnations,
    ownExits,
    kills: () => killsByUs,
    begin() {
      launch();
      rssTimer = setInterval(followRss, RSS_EVERY_MS);
    },
    /** SIGKILL the running service now, then start it again after systemd's delay. */
    async kill() {
      const life = current();
      if (life.exit) return false;
      life.signalledByUs = "SIGKILL";
      killsByUs++;
      life.running.child.kill("SIGKILL");
      await life.running.stop("SIGKILL");
      await Bun.sleep(RESTART_DELAY_MS);
      if (!stopping) launch();
      return true;
    },
    /** Until the service runs and has announced itself (a restart under way included). */
    async ready(timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const life = current();
        if (!life.exit && life.running.output().includes("watching")) return;
        if (Date.now() > until) throw new Error(`the service did not come up in ${timeoutMs} ms`);
        await Bun.sleep(10);
      }
    },
    rssNow: () => followRss(),
    /** SIGTERM, as `systemctl stop`: returns its exit code. */
    async stop() {
      followRss();
      clearInterval(rssTimer);
      stopping = true;
      const life = current();
      if (life.exit) return life.exit.code;
      life.signalledByUs = "SIGTERM";
      return life.running.stop("SIGTERM");
    },
    output: () => incarnations.map((i) => i.running.output()).join(""),
  };
}
