import { spawn, type ChildProcess } from "node:child_process";
import { closeSync } from "node:fs";
import { decideChain, describeActor } from "../fs/place.ts";
import type { Actor } from "../fs/trust.ts";
import { openDir } from "../fs/walk.ts";
import { logger } from "../log/logger.ts";
import { SERVICE_ENV } from "../process/service-runtime.ts";
import { loadAccounts } from "../users/accounts.ts";
import type { DirId } from "./handover.ts";
import { LineSplitter } from "./lines.ts";
import type { StartWorker, WorkerHandle } from "./pool.ts";
import { MAX_ANSWER_LINE, oneBoundedLine, parseAnswer, parseReady, type HandedDir, type OwnerRequest, type WorkerInit } from "./protocol.ts";
import { AS_OWNER_VERB, selfCommand } from "./self.ts";

const START_TIMEOUT_MS = 10_000;
/** A worker that was asked to end and has not: killed after this long. */
const CLOSE_GRACE_MS = 2_000;
/**
 * Nothing from root's environment (the worker runs no program and needs no HOME) but the runtime settings of this
 * process: under `watch` the worker is resident and runs like it, without the JIT and the GC timer (memory, and no
 * wake-ups: bench/idle.ts); a one-shot verb's worker lives as long as the verb and keeps the JIT, which a pass of
 * many targets pays back.
 */
function workerEnv(): Record<string, string> {
  const runtime = Object.keys(SERVICE_ENV).flatMap((key) => (process.env[key] === undefined ? [] : [[key, process.env[key]!]]));
  return { LANG: "C.UTF-8", ...Object.fromEntries(runtime) };
}

let warnedDumpable = false;

/**
 * Starts `oauth-sync __as-owner` as root, handing it the directories `paths` opened by root (the no-follow walk,
 * each one the actor's in a place the trust rules give to the actor; others are left out), and waits until it has
 * become the actor (src/privilege/worker.ts).
 */
export const startWorker: StartWorker = async (actor, paths) => {
  const who = describeActor(actor);
  const dirs = openForOwner(actor, paths);
  let child: ChildProcess;
  try {
    const [command, ...args] = selfCommand();
    // node:child_process rather than Bun.spawn: its pipes can be unref'd, so an idle worker never keeps a one-shot verb
    // running (a pending read on a Bun.spawn pipe does, measured with bun 1.4.4).
    child = spawn(command!, [...args, AS_OWNER_VERB], { stdio: ["pipe", "pipe", "pipe", ...dirs.map((d) => d.fd)], env: workerEnv(), cwd: "/" });
  } catch (error) {
    return { ok: false, error: `cannot act as ${who}: ${(error as Error).message}` };
  } finally {
    for (const dir of dirs) closeSync(dir.fd);
  }
  const worker = new WorkerProcess(child, who);
  const groups = loadAccounts().supplementaryGids(actor.uid).filter((gid) => gid !== 0);
  const init: WorkerInit = { uid: actor.uid, gid: actor.gid, groups, dirs: dirs.map((d, i) => ({ ...d, fd: 3 + i })) };
  worker.send(JSON.stringify(init));
  const first = await worker.nextLine(START_TIMEOUT_MS);
  const ready = first.ok ? parseReady(first.line) : undefined;
  if (!ready || !ready.ready) {
    worker.kill();
    const why = !first.ok ? first.fault : ready ? ready.error : "answered garbage at start";
    return { ok: false, error: `cannot act as ${who}: ${why}` };
  }
  if (ready.dumpable && !warnedDumpable) {
    warnedDumpable = true;
    logger.warn(
      `the process acting as ${who} stays readable by that user (fs.suid_dumpable=${ready.suidDumpable ?? "?"}): it holds only what is written to ` +
        "that user's files, but set the sysctl fs.suid_dumpable to 0 (or 2) so that even a token not yet written stays out of reach",
    );
  }
  worker.unref();
  return { ok: true, worker, handed: dirs.map(({ path, dev, ino }): DirId => ({ path, dev, ino })) };
};

/** Root opens each directory with the no-follow walk and keeps it only where it is the actor's to act in. */
function openForOwner(actor: Actor, paths: string[]): HandedDir[] {
  const dirs: HandedDir[] = [];
  for (const path of paths) {
    let opened;
    try {
      opened = openDir(path);
    } catch {
      continue; // gone: a request that needs it says so
    }
    const here = opened.chain.at(-1)!;
    const decision = decideChain(opened.chain);
    if (!decision.ok || decision.actor.uid !== actor.uid || here.uid !== actor.uid || here.dev === undefined || here.ino === undefined) {
      closeSync(opened.fd);
      continue;
    }
    dirs.push({ fd: opened.fd, path: opened.path, dev: here.dev, ino: here.ino, chain: opened.chain });
  }
  return dirs;
}

type Line = { ok: true; line: string } | { ok: false; fault: string };

/**
 * Root's end of one worker: request lines out, bounded answer lines back in the same order (the worker serves one
 * line after the other, so several may be under way); anything unexpected ends it.
 */
class WorkerProcess implements WorkerHandle {
  private readonly splitter = new LineSplitter(MAX_ANSWER_LINE);
  /** Who waits for the next lines, oldest first, each with its own deadline. */
  private readonly waiters: { resolve: (line: Line) => void; timer: ReturnType<typeof setTimeout> }[] = [];
  private gone?: string;
  private stderrTail = "";
  private nextId = 1;
  private timedOut = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly who: string,
  ) {
    child.stdout!.on("data", (chunk: Buffer) => {
      const split = this.splitter.push(chunk);
      if (!split.ok) return this.end(`acting as ${who}: the worker answered garbage (${split.message})`);
      for (const line of split.lines) {
        const waiter = this.waiters.shift();
        if (!waiter) return this.end(`acting as ${who}: the worker spoke out of turn`);
        clearTimeout(waiter.timer);
        waiter.resolve({ ok: true, line });
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000)));
    child.stdin!.on("error", () => {}); // it may be gone before it reads: its exit says why
    child.on("error", (error) => this.end(`cannot act as ${who}: ${error.message}`));
    child.on("exit", (code, signal) => {
      const said = oneBoundedLine(this.stderrTail.trim().split("\n").slice(-2).join(" | "));
      this.end(`acting as ${who}: the worker ended (${code ?? signal})${said ? `: ${said}` : ""}`);
    });
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** The next line not yet promised to anyone, or the reason there will be none. */
  nextLine(timeoutMs: number): Promise<Line> {
    if (this.gone) return Promise.resolve({ ok: false, fault: this.gone });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timedOut = true;
        this.end(`acting as ${this.who} timed out after ${timeoutMs / 1000} s`);
      }, timeoutMs);
      this.waiters.push({ resolve, timer });
    });
  }

  async request(request: OwnerRequest, timeoutMs: number) {
    if (this.gone) return { ok: false as const, fault: this.gone };
    const id = this.nextId++;
    if (this.waiters.length === 0) this.ref();
    try {
      const next = this.nextLine(timeoutMs);
      this.send(JSON.stringify({ id, ...request }));
      const got = await next;
      if (!got.ok) return { ok: false as const, fault: got.fault, timedOut: this.timedOut };
      const answer = parseAnswer(got.line, id);
      if (!answer) {
        this.end(`acting as ${this.who}: the worker answered garbage`);
        return { ok: false as const, fault: this.gone! };
      }
      return { ok: true as const, answer };
    } finally {
      if (this.waiters.length === 0) this.unref();
    }
  }

  alive(): boolean {
    return this.gone === undefined;
  }

  close(): void {
    if (this.gone) return;
    this.gone = `acting as ${this.who}: the worker was closed`;
    this.child.stdin!.end();
    setTimeout(() => this.kill(), CLOSE_GRACE_MS).unref();
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  /** A worker that is not working must not keep a one-shot verb (sync, install) from exiting. */
  unref(): void {
    this.child.unref();
    for (const stream of [this.child.stdout, this.child.stderr, this.child.stdin]) (stream as { unref?: () => void } | null)?.unref?.();
  }

  private ref(): void {
    this.child.ref();
    for (const stream of [this.child.stdout, this.child.stderr, this.child.stdin]) (stream as { ref?: () => void } | null)?.ref?.();
  }

  /** It is gone for good: killed if still running, and whoever waits learns why. */
  private end(why: string): void {
    this.gone ??= why;
    this.kill();
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve({ ok: false, fault: this.gone });
    }
  }
}
