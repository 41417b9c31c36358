/** Pure: when a lasting failure is worth a message. */

export interface Streak {
  count: number;
  lastError: string;
  /** When the last message about this streak went out (epoch ms). */
  notifiedAt?: number;
}

export const emptyStreak = (): Streak => ({ count: 0, lastError: "" });

/**
 * One more failure: a message when the streak reaches the threshold, then a reminder every `reminderMs`, never one
 * per tick. Returns the updated streak and whether to send.
 */
export function onFailure(streak: Streak, error: string, now: number, threshold: number, reminderMs: number): { streak: Streak; send: boolean } {
  const next: Streak = { ...streak, count: streak.count + 1, lastError: error };
  if (next.count < threshold) return { streak: next, send: false };
  const due = reminderDue(next.notifiedAt, now, reminderMs);
  if (due) next.notifiedAt = now;
  return { streak: next, send: due };
}

/** A success ends the streak; `wasNotified` says whether a person heard about it (then the end is logged). */
export function onSuccess(streak: Streak): { streak: Streak; wasNotified: boolean } {
  return { streak: emptyStreak(), wasNotified: streak.notifiedAt !== undefined };
}

/** Pure: is a reminder about a lasting problem due? */
export function reminderDue(lastNotifiedAt: number | undefined, now: number, everyMs: number): boolean {
  return lastNotifiedAt === undefined || lastNotifiedAt > now || now - lastNotifiedAt >= everyMs;
}
