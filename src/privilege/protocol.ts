import type { LocalTargetConfig } from "../config/schema.ts";
import type { ClaudeCredentials } from "../credentials/parse.ts";
import type { WriteMode } from "../fs/atomic-write.ts";
import type { TargetState } from "../targets/types.ts";
import type { TargetOutcome, TargetStatus } from "../targets/types.ts";

/** What root asks a child running as the owner of a place to do there. One request, one answer line. */
export type OwnerRequest =
  | { op: "sync-target"; target: LocalTargetConfig; credentials: ClaudeCredentials; state?: TargetState; now: number; force?: boolean }
  | { op: "write-file"; path: string; data: string; newFileMode?: number; mode?: WriteMode }
  | { op: "mkdir"; path: string }
  | { op: "unlink"; path: string };

export type OwnerAnswer = { ok: true; outcome?: TargetOutcome; written?: "written" | "unchanged" } | { ok: false; error: string };

const STATUSES: TargetStatus[] = ["written", "unchanged", "refused", "failed"];
const MAX_MESSAGE = 2000;

/**
 * Pure: the child's stdout → its answer. The child runs as a user who may be hostile (and could be ptraced by
 * that user), so its answer is data to validate, never trusted: one JSON line, known fields, bounded strings.
 */
export function parseAnswer(stdout: string): OwnerAnswer | undefined {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.ok === false) return { ok: false, error: bounded(v.error) ?? "no reason given" };
  if (v.ok !== true) return undefined;
  const answer: OwnerAnswer = { ok: true };
  if (v.written === "written" || v.written === "unchanged") answer.written = v.written;
  if (v.outcome !== undefined) {
    const o = v.outcome as Record<string, unknown> | null;
    if (!o || typeof o.id !== "string" || !STATUSES.includes(o.status as TargetStatus)) return undefined;
    answer.outcome = { id: o.id.slice(0, 500), status: o.status as TargetStatus, ...(bounded(o.message) ? { message: bounded(o.message) } : {}) };
  }
  return answer;
}

function bounded(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "?").slice(0, MAX_MESSAGE);
}
