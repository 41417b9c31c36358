import type { Login } from "./inspect.ts";

/** Pure decisions about when to refresh. Times are epoch milliseconds from the wall clock. */

export type Due =
  /** Outside the window: nothing to do until dueAt. */
  | { action: "wait"; expiresAt: number; dueAt: number }
  | { action: "trigger"; reason: "in-window" | "expired"; expiresAt: number }
  /** The login is dead (blanked by the CLI): only `claude auth login` helps. */
  | { action: "reauth" }
  /** The file cannot be read or holds no login: a person must look. */
  | { action: "broken"; kind: "no-login" | "malformed" | "unreadable"; message: string };

export function refreshDue(login: Login, now: number, windowMs: number): Due {
  switch (login.kind) {
    case "blanked":
      return { action: "reauth" };
    case "live": {
      const dueAt = login.expiresAt - windowMs;
      if (now < dueAt) return { action: "wait", expiresAt: login.expiresAt, dueAt };
      return { action: "trigger", reason: now >= login.expiresAt ? "expired" : "in-window", expiresAt: login.expiresAt };
    }
    default:
      return { action: "broken", kind: login.kind, message: login.message };
  }
}

export type Verdict = "refreshed" | "dead" | "unchanged";

/** Pure: did a trigger work? Only the file proves it: the CLI exits 0 when it could not reach the network. */
export function judgeTrigger(before: Extract<Login, { kind: "live" }>, after: Login): Verdict {
  if (after.kind === "blanked") return "dead";
  if (after.kind === "live" && after.expiresAt > before.expiresAt && after.accessFingerprint !== before.accessFingerprint) return "refreshed";
  return "unchanged";
}

export interface SchedulerSettings {
  windowMs: number;
  retryMs: number;
  slowRetryMs: number;
  slowAfterMs: number;
  /** Never sleep longer than this: a suspended machine or a clock jump is noticed within it. */
  maxSleepMs: number;
}

export interface SchedulerView {
  login: Login;
  now: number;
  /** When the scheduler last triggered the CLI (wall clock). */
  lastTriggerAt?: number;
  /** The login was declared dead and no new one has appeared. */
  reauthNeeded: boolean;
}

export interface Step {
  /** Trigger a refresh now. */
  act: boolean;
  /** Look again at this time (at most maxSleepMs away). */
  wakeAt: number;
}

/**
 * Pure: the scheduler's next step. It wakes at least every maxSleepMs and compares the wall clock with the expiry,
 * so one long timeout that a suspend stretched (timers run on the monotonic clock) never makes it late.
 */
export function nextStep(view: SchedulerView, s: SchedulerSettings): Step {
  const { now } = view;
  const cap = (at: number) => Math.max(now, Math.min(at, now + s.maxSleepMs));
  const due = refreshDue(view.login, now, s.windowMs);
  if (view.reauthNeeded || due.action === "reauth") return { act: false, wakeAt: cap(Infinity) };
  if (due.action === "broken") return { act: false, wakeAt: cap(now + s.retryMs) };
  if (due.action === "wait") return { act: false, wakeAt: cap(due.dueAt) };
  const interval = now - due.expiresAt > s.slowAfterMs ? s.slowRetryMs : s.retryMs;
  const last = view.lastTriggerAt;
  // A clock that jumped backwards leaves lastTriggerAt in the future: do not wait for it.
  if (last === undefined || last > now || now - last >= interval) return { act: true, wakeAt: cap(now + interval) };
  return { act: false, wakeAt: cap(last + interval) };
}
