import type { Actor } from "../fs/trust.ts";
import type { DirId } from "./handover.ts";
import { OwnerPool } from "./pool.ts";
import type { OwnerAnswer, OwnerRequest } from "./protocol.ts";
import { startWorker } from "./worker-process.ts";

/**
 * The bound on workers alive at once, whoever they act for. The unit allows 128 tasks (TasksMax) and 1 GiB: a worker
 * is one process of ~4 threads and ~25 MB (bench/idle.ts), so four of them stay far inside both beside the service,
 * its `claude`/`openclaw` children and a reload, while a host with more owners than that only waits a little.
 */
export const MAX_WORKERS = 4;
/** How long a worker with nothing to do stays: see docs/SECURITY.md and bench/idle.ts for the figures behind it. */
export const WORKER_IDLE_MS = 10 * 60_000;
const REQUEST_TIMEOUT_MS = 30_000;

let pool: OwnerPool | undefined;

/** Runs one request in the worker acting as `actor`, which must have been handed `top` (the owner's part of the path). */
export function runAsOwner(actor: Actor, top: DirId, request: OwnerRequest): Promise<OwnerAnswer> {
  pool ??= new OwnerPool({ start: startWorker, maxWorkers: MAX_WORKERS, idleMs: WORKER_IDLE_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  return pool.run(actor, [top], request);
}

/** Ends every worker (the service's stop; one-shot verbs need not: an idle worker never keeps them running). */
export function closeOwnerWorkers(): void {
  pool?.close();
  pool = undefined;
}
