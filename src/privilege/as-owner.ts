import type { Actor } from "../fs/trust.ts";
import type { DirId } from "./handover.ts";
import { OwnerPool } from "./pool.ts";
import type { OwnerAnswer, OwnerRequest } from "./protocol.ts";
import { startWorker } from "./worker-process.ts";

/**
 * The bound on workers alive at once, whoever they act for. The unit allows 128 tasks (TasksMax) and 1 GiB: a worker
 * is one process of 3-4 threads and ~30 MB RSS, of which ~5 MB its own (the rest are the binary's pages, shared with the
 * service), so four of them stay far inside both beside the service, its `claude`/`openclaw` children and a reload,
 * while a host with more owners than that only waits a little.
 */
export const MAX_WORKERS = 4;
/**
 * How long a worker with nothing to do stays. Measured (bench/idle.ts, watch's runtime settings): resident, it costs
 * 0.007 s of CPU per hour (2 wake-ups a minute, its allocator's scavenger) and ~5 MB of its own memory; starting one
 * costs ~30 ms of CPU and adds ~35 ms to that pass. Writes come with rotations, every ~8 hours: a shorter life would
 * save 5 MB and pay the start on every real rotation, which is the cost issue 20 asks to keep out of a pass. 12 hours
 * outlives one token with room; an owner whose targets are gone from the config is let go within that.
 */
export const WORKER_IDLE_MS = 12 * 3_600_000;
const REQUEST_TIMEOUT_MS = 30_000;

let pool: OwnerPool | undefined;

/** Runs one request in the worker acting as `actor`, which must have been handed `top` (the owner's part of the path). */
export function runAsOwner(actor: Actor, top: DirId, request: OwnerRequest): Promise<OwnerAnswer> {
  pool ??= new OwnerPool({ start: startWorker, maxWorkers: MAX_WORKERS, idleMs: WORKER_IDLE_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  return pool.run(actor, [top], request);
}
