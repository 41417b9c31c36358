import { hostname } from "node:os";

export type EventKind = "reauth-needed" | "reauth-reminder" | "recovered" | "sync-failing" | "reload-failing" | "state-failing" | "push-failing" | "token-format" | "test";

/** One thing a person should know. Built from fixed text, paths and fingerprints: never a token or a webhook URL. */
export interface NotifyEvent {
  kind: EventKind;
  severity: "error" | "warning" | "info";
  title: string;
  text: string;
  host: string;
  /** Epoch milliseconds. */
  at: number;
  details?: Record<string, string | number | boolean>;
}

export function thisHost(configured?: string): string {
  return configured || hostname();
}

export function reauthEvent(kind: "reauth-needed" | "reauth-reminder", host: string, at: number, d: { reason: string; since: string; fix: string; flagFile: string }): NotifyEvent {
  return {
    kind,
    severity: "error",
    title: `${kind === "reauth-reminder" ? "Reminder: " : ""}Claude login on ${host} needs a new sign-in`,
    text: `${d.reason}. OpenClaw keeps the last good token until it expires, then fails with 401. Fix: ${d.fix}. Flag file: ${d.flagFile} (since ${d.since}).`,
    host,
    at,
    details: { reason: d.reason, since: d.since, fix: d.fix, flagFile: d.flagFile },
  };
}

export function recoveredEvent(host: string, at: number, d: { fingerprint: string; expiresAt: string }): NotifyEvent {
  return {
    kind: "recovered",
    severity: "info",
    title: `Claude login on ${host} is back`,
    text: `A fresh login appeared (token ${d.fingerprint}, expires ${d.expiresAt}); the REAUTH_NEEDED flag was removed and the targets are being synced.`,
    host,
    at,
    details: d,
  };
}

const FAILING = {
  "sync-failing": { what: "sync", after: "" },
  "reload-failing": { what: "gateway reload", after: "" },
  "state-failing": { what: "state record", after: " Syncing goes on; `oauth-sync status` shows an old record until it is fixed." },
} as const;

export function failingEvent(kind: keyof typeof FAILING, host: string, at: number, d: { count: number; error: string }): NotifyEvent {
  const { what, after } = FAILING[kind];
  return {
    kind,
    severity: "warning",
    title: `oauth-sync on ${host}: ${what} failing`,
    text: `The ${what} failed ${d.count} time(s) in a row. Last error: ${d.error}.${after} See \`journalctl -u oauth-sync\`.`,
    host,
    at,
    details: d,
  };
}

export function pushFailingEvent(host: string, at: number, d: { target: string; count: number; error: string }): NotifyEvent {
  return {
    kind: "push-failing",
    severity: "warning",
    title: `oauth-sync on ${host}: push to ${d.target} failing`,
    text: `Pushing the token to ${d.target} failed ${d.count} time(s) in a row; that host keeps its last token until it expires. Last error: ${d.error}. See \`oauth-sync status\`.`,
    host,
    at,
    details: d,
  };
}

/**
 * The login holds a token this release refuses for its shape: nothing is synced, and every target fails once its
 * last good token expires. Said at once (not after a failure streak), with the reason and where a fix may be.
 */
export function tokenFormatEvent(host: string, at: number, d: { message: string; version: string }): NotifyEvent {
  return {
    kind: "token-format",
    severity: "error",
    title: `oauth-sync on ${host}: the Claude token is in a format oauth-sync ${d.version} does not accept`,
    // The message names the file, the reason (never the token) and the release to look for (credentials/parse.ts).
    text: `${d.message}. Then OpenClaw fails with 401.`,
    host,
    at,
    details: d,
  };
}

export function testEvent(host: string, at: number): NotifyEvent {
  return { kind: "test", severity: "info", title: `oauth-sync on ${host}: test message`, text: "Notifications from oauth-sync reach this channel.", host, at };
}
