import type { Actor } from "../fs/trust.ts";
import type { DirId } from "./handover.ts";
import type { OwnerAnswer, OwnerRequest } from "./protocol.ts";

/** A running worker that acts as one owner (src/privilege/worker-process.ts; a fake in the tests). */
export interface WorkerHandle {
  /** One request, answered in turn (the pool sends up to PIPELINE before the first answer). A fault (it died, timed out, answered garbage) means the worker is gone. */
  request(request: OwnerRequest, timeoutMs: number): Promise<{ ok: true; answer: OwnerAnswer } | { ok: false; fault: string; timedOut?: boolean }>;
  /** Ends it: its stdin is closed, and it is killed if it lingers. */
  close(): void;
  /** False once it has ended (killed by its owner while idle, say): the pool then starts another before asking. */
  alive(): boolean;
}

/** What a worker was handed: each directory's device and inode, by path, as root opened it for that worker. */
export type StartWorker = (actor: Actor, paths: string[]) => Promise<{ ok: true; worker: WorkerHandle; handed: DirId[] } | { ok: false; error: string }>;

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface PoolOptions {
  start: StartWorker;
  /** At most this many workers alive at once, whoever they act for: the rest wait for one to be free. */
  maxWorkers: number;
  /** A worker with nothing to do is closed after this long. */
  idleMs: number;
  requestTimeoutMs: number;
  timers?: Timers;
}

interface Job {
  need: DirId[];
  request: OwnerRequest;
  resolve: (answer: OwnerAnswer) => void;
}

interface Owner {
  key: string;
  actor: Actor;
  queue: Job[];
  worker?: { handle: WorkerHandle; handed: DirId[] };
  /** Draining its queue (starting its worker included): it holds a slot. */
  running: boolean;
  idle?: unknown;
  lastUsed: number;
}

/** Requests sent to one worker before the first answer is back: it serves them in turn, without waiting on us. */
const PIPELINE = 16;

const realTimers: Timers = {
  set: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * One worker per owner, from a bounded pool: all of an owner's requests go to that owner's worker, one at a time;
 * at most `maxWorkers` workers live at once, so a user with hundreds of agents costs one process, and a second
 * user's request waits at most for a slot, never for a process the host cannot start. A worker stays between
 * passes (closed after `idleMs` without work, or to free its slot for another owner) and is replaced when it fails,
 * or when a directory it was handed is no longer the one root finds at that path.
 */
export class OwnerPool {
  private readonly owners = new Map<string, Owner>();
  private readonly waiting: Owner[] = [];
  private readonly timers: Timers;
  private uses = 0;

  constructor(private readonly options: PoolOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /** Runs `request` as `actor`, in a worker that was handed every directory of `need`. */
  run(actor: Actor, need: DirId[], request: OwnerRequest): Promise<OwnerAnswer> {
    const key = `${actor.uid}:${actor.gid}`;
    let owner = this.owners.get(key);
    if (!owner) {
      owner = { key, actor, queue: [], running: false, lastUsed: 0 };
      this.owners.set(key, owner);
    }
    const answer = new Promise<OwnerAnswer>((resolve) => owner.queue.push({ need, request, resolve }));
    this.pump(owner);
    return answer;
  }

  /** How many workers are alive or being started (for tests and status). */
  liveWorkers(): number {
    return [...this.owners.values()].filter((o) => o.worker || o.running).length;
  }

  /** Ends every worker; queued requests are answered with a failure. */
  close(): void {
    for (const owner of this.owners.values()) {
      for (const job of owner.queue.splice(0)) job.resolve({ ok: false, error: "oauth-sync is stopping" });
      this.retire(owner);
    }
    this.waiting.splice(0);
  }

  private pump(owner: Owner): void {
    if (owner.running || owner.queue.length === 0) return;
    if (!owner.worker && this.liveWorkers() >= this.options.maxWorkers) {
      const idle = [...this.owners.values()].filter((o) => o.worker && !o.running && o.queue.length === 0).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (!idle) {
        if (!this.waiting.includes(owner)) this.waiting.push(owner);
        return;
      }
      this.retire(idle);
    }
    void this.drain(owner);
  }

  private async drain(owner: Owner): Promise<void> {
    owner.running = true;
    this.timers.clear(owner.idle);
    const inFlight = new Set<Promise<void>>();
    let startedFor: Job | undefined;
    for (;;) {
      const job = owner.queue[0];
      if (!job) {
        if (!inFlight.size) break;
        await Promise.race(inFlight);
        continue;
      }
      const worker = owner.worker;
      const usable = worker && (worker.handle.alive() || startedFor === job) && covers(worker.handed, job.need);
      if (!usable) {
        // What the current worker has under way finishes first; then it is replaced.
        if (inFlight.size) {
          await Promise.all(inFlight);
          continue;
        }
        if (!(await this.replace(owner, job))) break;
        startedFor = job;
        continue;
      }
      if (inFlight.size >= PIPELINE) {
        await Promise.race(inFlight);
        continue;
      }
      owner.queue.shift();
      const sent: Promise<void> = this.send(owner, worker, job).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
    }
    owner.running = false;
    owner.lastUsed = ++this.uses;
    if (this.waiting.length) {
      this.retire(owner); // its slot goes to an owner that waits
      this.admitWaiting();
    } else if (owner.worker) {
      owner.idle = this.timers.set(() => {
        if (owner.running || owner.queue.length) return;
        this.retire(owner);
        this.admitWaiting();
      }, this.options.idleMs);
    }
  }

  /**
   * A new worker for `owner`, handed the old one's directories (opened afresh: a recreated one is then the new one)
   * and every directory its queue needs. False where it could not start: then the whole queue has failed.
   */
  private async replace(owner: Owner, job: Job): Promise<boolean> {
    const kept = owner.worker?.handed.map((h) => h.path) ?? [];
    this.retire(owner);
    const paths = [...new Set([...kept, ...owner.queue.flatMap((j) => j.need.map((n) => n.path))])];
    const started = await this.options.start(owner.actor, paths).catch((error: Error) => ({ ok: false as const, error: error.message }));
    if (!started.ok) {
      // Starting again for each queued request would only repeat the failure: they all get it.
      for (const failed of owner.queue.splice(0)) failed.resolve({ ok: false, error: started.error });
      return false;
    }
    owner.worker = { handle: started.worker, handed: started.handed };
    if (!covers(started.handed, job.need)) {
      owner.queue.shift();
      job.resolve({ ok: false, error: `${job.need.map((n) => n.path).join(", ")} changed while oauth-sync looked: not handed over; the next pass tries again` });
    }
    return true;
  }

  /** One request to the owner's worker; a fault ends that worker (and, for a timeout, this pass for the owner). */
  private async send(owner: Owner, worker: NonNullable<Owner["worker"]>, job: Job): Promise<void> {
    const result = await worker.handle
      .request(job.request, this.options.requestTimeoutMs)
      .catch((error: Error) => ({ ok: false as const, fault: `acting as uid ${owner.actor.uid}: ${error.message}`, timedOut: false }));
    if (result.ok) return job.resolve(result.answer);
    if (owner.worker === worker) this.retire(owner);
    job.resolve({ ok: false, error: result.fault });
    // A worker its owner stopped would cost every queued request the whole timeout, one after the other: the
    // owner's other requests fail now, with the reason, and the next pass tries again.
    if (result.timedOut) for (const skipped of owner.queue.splice(0)) skipped.resolve({ ok: false, error: `${result.fault}: not tried in this pass` });
  }

  /** Owners that wait get the slots that are free now. */
  private admitWaiting(): void {
    while (this.waiting.length && this.liveWorkers() < this.options.maxWorkers) this.pump(this.waiting.shift()!);
  }

  private retire(owner: Owner): void {
    this.timers.clear(owner.idle);
    owner.idle = undefined;
    owner.worker?.handle.close();
    owner.worker = undefined;
  }
}

const sameDir = (a: DirId, b: DirId) => a.path === b.path && a.dev === b.dev && a.ino === b.ino;

/** Pure: was every needed directory handed to the worker, and is each still the very directory root finds there? */
export function covers(handed: DirId[], need: DirId[]): boolean {
  return need.every((n) => handed.some((h) => sameDir(h, n)));
}
