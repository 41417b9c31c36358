/**
 * Pure: when the expiry safety net should next look, whatever the watcher saw. The targets hold a token that expires
 * at `heldExpiresAt`; a pass runs at each checkpoint before it (e.g. 180 s and 60 s left) that lies after `after`
 * (the last time the net looked, or now). Undefined: no checkpoint is left for this token.
 */
export function nextExpiryCheck(heldExpiresAt: number | undefined, after: number, checkpointsSeconds: readonly number[]): number | undefined {
  if (heldExpiresAt === undefined) return undefined;
  const due = checkpointsSeconds.map((seconds) => heldExpiresAt - seconds * 1000).filter((at) => at > after);
  return due.length > 0 ? Math.min(...due) : undefined;
}

/** Why a pass ran. Only the safety nets can find a rotation the watcher missed. */
export type PassReason = "start" | "event" | "retry" | "directory" | "look" | "poll" | "reconcile" | "expiry" | "trigger";

/** `poll`: the file looked at every second while the watch does not hold. */
const NETS: ReadonlySet<PassReason> = new Set(["look", "poll", "reconcile", "expiry", "trigger"]);

/**
 * Pure: did this pass find a rotation that no event announced? The credentials changed since the previous pass, a
 * target was written, and nothing but a safety net asked for the pass. Returns the net that found it.
 */
export function missedBy(reasons: ReadonlySet<PassReason>, sourceChanged: boolean, wrote: boolean): PassReason | undefined {
  if (!sourceChanged || !wrote || reasons.size === 0) return undefined;
  for (const reason of reasons) if (!NETS.has(reason)) return undefined;
  return (["look", "poll", "trigger", "expiry", "reconcile"] as const).find((net) => reasons.has(net));
}
