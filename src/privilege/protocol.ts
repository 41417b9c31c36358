import type { LocalTargetConfig } from "../config/schema.ts";
import type { WriteMode } from "../fs/atomic-write.ts";
import type { DirStep } from "../fs/walk.ts";
import type { CrossingCredentials } from "./crossing.ts";

/**
 * The line protocol between root and the worker that acts as one owner (src/privilege/worker.ts). Root writes one
 * init line, the worker answers one ready line, then each request line gets one answer line with the same id.
 */

/** A directory root opened and handed to the worker as file descriptor `fd`, with the way down to it as root saw it. */
export interface HandedDir {
  fd: number;
  path: string;
  dev: number;
  ino: number;
  chain: DirStep[];
}

/** Not secret: who to become and which directories were handed. */
export interface WorkerInit {
  uid: number;
  gid: number;
  /** The owner's supplementary groups, as its login has them: a file's group it belongs to survives a rewrite. */
  groups: number[];
  dirs: HandedDir[];
}

export type WorkerReady = { ready: true; pid: number; dumpable: boolean; suidDumpable?: string } | { ready: false; error: string };

/**
 * What root last recorded of the target (by fingerprint, never the token), handed through for its newer-token check.
 * This and SyncStatus are the protocol's own words for a target's sync: src/targets/ fits them by shape (TargetState,
 * TargetStatus), so the protocol imports nothing of it, and the compiler checks the fit where the two meet
 * (src/targets/owned.ts sends and reads back; src/main.ts hands the worker its targets as LocalTarget, ./worker.ts).
 */
export interface SyncRecord {
  fingerprint?: string;
  expiresAt?: number;
  syncedAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}

/** What a target's sync came to. */
export type SyncStatus = "written" | "unchanged" | "refused" | "failed";

/** What root asks the worker to do in the owner's place. Credentials only as `credentialsFor` (./crossing.ts) cut them. */
export type OwnerRequest =
  | { op: "sync-target"; target: LocalTargetConfig; credentials: CrossingCredentials; state?: SyncRecord; now: number; force?: boolean }
  | { op: "write-file"; path: string; data: string; newFileMode?: number; mode?: WriteMode }
  | { op: "mkdir"; path: string }
  | { op: "unlink"; path: string };

export type OwnerAnswer =
  | { ok: true; outcome?: { status: SyncStatus; message?: string }; written?: "written" | "unchanged" }
  | { ok: false; error: string };

const STATUSES: SyncStatus[] = ["written", "unchanged", "refused", "failed"];
const MAX_MESSAGE = 2000;
/** The longest line either side accepts from the other: a request carries at most a file's data (src/fs/open-file.ts caps). */
export const MAX_REQUEST_LINE = 8 * 1024 * 1024;
export const MAX_ANSWER_LINE = 16 * 1024;

/**
 * Pure: one answer line from the worker → its answer, or undefined for anything else (garbage, another id). The
 * worker runs as a user who may be hostile, so its answer is bounded data: known fields, one-line strings. What it
 * claims is only a claim: the parent confirms a write by reading the file back itself (src/targets/owned.ts).
 */
export function parseAnswer(line: string, id: number): OwnerAnswer | undefined {
  const v = parseObject(line);
  if (!v || v.id !== id) return undefined;
  if (v.ok === false) return { ok: false, error: oneBoundedLine(v.error) ?? "no reason given" };
  if (v.ok !== true) return undefined;
  const answer: OwnerAnswer = { ok: true };
  if (v.written === "written" || v.written === "unchanged") answer.written = v.written;
  if (v.outcome !== undefined) {
    const o = v.outcome as Record<string, unknown> | null;
    if (typeof o !== "object" || o === null || !STATUSES.includes(o.status as SyncStatus)) return undefined;
    const message = oneBoundedLine(o.message);
    answer.outcome = { status: o.status as SyncStatus, ...(message ? { message } : {}) };
  }
  return answer;
}

/** Pure: the worker's first line → whether it is ready, as whom it could not become, or undefined for garbage. */
export function parseReady(line: string): WorkerReady | undefined {
  const v = parseObject(line);
  if (!v) return undefined;
  if (v.ready === false) return { ready: false, error: oneBoundedLine(v.error) ?? "no reason given" };
  if (v.ready !== true || !Number.isSafeInteger(v.pid) || typeof v.dumpable !== "boolean") return undefined;
  const suid = typeof v.suidDumpable === "string" && /^[0-9]$/.test(v.suidDumpable) ? { suidDumpable: v.suidDumpable } : {};
  return { ready: true, pid: v.pid as number, dumpable: v.dumpable, ...suid };
}

/** Pure: root's init line, read by the worker before anything else (root wrote it: the checks are for mistakes). */
export function parseInit(line: string): WorkerInit | undefined {
  const v = parseObject(line);
  if (!v || !isId(v.uid) || !isId(v.gid) || !Array.isArray(v.dirs) || !Array.isArray(v.groups) || !v.groups.every(isId)) return undefined;
  const dirs = v.dirs as HandedDir[];
  const valid = dirs.every((d) => Number.isSafeInteger(d?.fd) && d.fd >= 3 && typeof d.path === "string" && d.path.startsWith("/") && Number.isSafeInteger(d.dev) && Number.isSafeInteger(d.ino) && Array.isArray(d.chain));
  return valid ? { uid: v.uid as number, gid: v.gid as number, groups: v.groups as number[], dirs } : undefined;
}

const isId = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) < 2 ** 32 - 1;

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A string from the other side as one line: every control character (C0, DEL, C1, and so newlines and ESC) shown as `?`. */
export function oneBoundedLine(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  // eslint-disable-next-line no-control-regex
  return value.slice(0, MAX_MESSAGE).replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, "?");
}
