import type { ClaudeCredentials } from "../credentials/parse.ts";
import type { FileTargetConfig } from "../config/schema.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { describeFsError, REFUSAL_CODES } from "../fs/errors.ts";
import { MAX_BYTES, readRegularFile, type ReadResult } from "../fs/open-file.ts";
import { holdsNewerToken } from "./newer.ts";
import type { FilePlan, SyncContext, Target, TargetOutcome } from "./types.ts";
import { targetId } from "./types.ts";

export type Planner = (text: string | undefined, credentials: ClaudeCredentials) => FilePlan;
/** A reason not to touch this file at all, checked before every write. */
export type Guard = () => Promise<string | undefined>;

/** The effects around a pure planner: read the file, refuse what is unsafe, write only what changed. */
export function fileTarget(config: FileTargetConfig, plan: Planner, guard?: Guard): Target {
  const id = targetId(config);
  return {
    id,
    config,
    async sync(credentials: ClaudeCredentials, context: SyncContext): Promise<TargetOutcome> {
      const refusal = await guard?.();
      if (refusal) return { id, status: "refused", message: refusal };
      const step = nextStep(config, readRegularFile(config.path, MAX_BYTES.target), plan, credentials, context);
      if ("done" in step) return step.done;
      try {
        const outcome = await writeFileAtomic(config.path, step.write, { mode: config.write });
        return { id, status: outcome };
      } catch (error) {
        const code = (error as { code?: string }).code ?? "";
        return { id, status: REFUSAL_CODES.has(code) ? "refused" : "failed", message: describeFsError("write", config.path, error) };
      }
    },
  };
}

/** Pure: from what reading the file gave, the outcome without a write (unchanged, refused, failed), or the text to write. */
export function nextStep(config: FileTargetConfig, read: ReadResult, plan: Planner, credentials: ClaudeCredentials, context: Pick<SyncContext, "state" | "force">): { done: TargetOutcome } | { write: string } {
  const id = targetId(config);
  if (!read.ok && read.code !== "ENOENT") {
    return { done: { id, status: REFUSAL_CODES.has(read.code) ? "refused" : "failed", message: describeFsError("read", config.path, read) } };
  }
  const text = read.ok ? read.text : undefined;
  const planned = plan(text, credentials);
  if (!planned.ok) return { done: { id, status: "failed", message: planned.error } };
  const newer = holdsNewerToken(planned.held, credentials, context.state);
  if (newer && !config.replaceNewer && !context.force) return { done: { id, status: "refused", message: `${config.path} ${newer}` } };
  if (planned.next === text) return { done: { id, status: "unchanged" } };
  return { write: planned.next };
}
