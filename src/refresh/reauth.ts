import { readTextIfRegular } from "../fs/open-file.ts";
import { basename, dirname, join } from "node:path";
import type { Config } from "../config/schema.ts";
import { formatTime } from "../credentials/parse.ts";
import { removeFileAsOwner, writeFileAsOwner } from "../privilege/owned-fs.ts";
import { logger } from "../log/logger.ts";
import { fingerprint } from "../log/redact.ts";
import { reauthEvent, recoveredEvent, thisHost, type NotifyEvent } from "../notify/event.ts";
import type { Login } from "./inspect.ts";
import { reauthSection } from "./record.ts";
import { reminderDue } from "../notify/policy.ts";

export const FLAG_NAME = "REAUTH_NEEDED";
const FLAG_MARK = "REAUTH_NEEDED (written by oauth-sync)";
/** The fingerprint recorded for a blanked file: any live login after it is a new one. */
export const BLANK = fingerprint("");

/**
 * Pure: where the flag goes by default: the OpenClaw directory of the first file target (beside the files an operator
 * of that deployment looks at), else stateDir.
 */
export function defaultFlagFile(config: Pick<Config, "targets" | "stateDir">): string {
  for (const target of config.targets) {
    if (!("path" in target)) continue;
    const parts = target.path.split("/");
    const agents = parts.lastIndexOf("agents");
    if (target.kind === "openclaw-auth-profiles" && agents > 0) return join(parts.slice(0, agents).join("/") || "/", FLAG_NAME);
    if (target.kind === "openclaw-oauth-json" && basename(dirname(target.path)) === "credentials") return join(dirname(dirname(target.path)), FLAG_NAME);
    return join(dirname(target.path), FLAG_NAME);
  }
  return join(config.stateDir, FLAG_NAME);
}

export const flagFile = (config: Config) => config.refresh.flagFile ?? defaultFlagFile(config);

/** Pure: the command that brings the login back, where the CLI lives. */
export function loginCommand(config: Pick<Config, "trigger" | "credentials">): string {
  const t = config.trigger;
  if (t.mode === "container") return `docker exec -it${t.user ? ` -u ${t.user}` : ""} ${t.container} ${t.claude} auth login`;
  const who = t.mode === "host" && t.user ? ` as ${t.user}` : " as the user who owns it";
  const dir = dirname(config.credentials);
  const env = dir.endsWith("/.claude") ? "" : `CLAUDE_CONFIG_DIR=${dir} `;
  return `${env}claude auth login${who} (credentials: ${config.credentials})`;
}

/** Pure: the flag file's text. */
export function flagText(d: { reason: string; since: string; fix: string; credentials: string }): string {
  return [
    FLAG_MARK,
    `The Claude Code login in ${d.credentials} is dead: ${d.reason}.`,
    `Since: ${d.since}`,
    `Fix: ${d.fix}`,
    "OpenClaw keeps the last good token until it expires. oauth-sync removes this file when a fresh login appears.",
    "",
  ].join("\n");
}

/** Pure: does this login replace the one that died? */
export function isNewLogin(login: Login, deadRefreshFingerprint: string | undefined): boolean {
  if (login.kind !== "live") return false;
  return deadRefreshFingerprint === undefined || deadRefreshFingerprint === BLANK || login.refreshFingerprint !== deadRefreshFingerprint;
}

export interface ReauthDeps {
  now: () => number;
  notify: (event: NotifyEvent) => Promise<unknown>;
}

/**
 * The login is dead: flag file, journal error, notification; later calls while it stays dead only remind, every
 * notify.reminderHours. Idempotent and safe to call from every tick.
 */
export async function reportDeadLogin(config: Config, reason: string, deadRefreshFingerprint: string, deps: ReauthDeps): Promise<void> {
  const now = deps.now();
  const fix = loginCommand(config);
  const flag = flagFile(config);
  const decision = await reauthSection.update(config.stateDir, (mine) => {
    const r = mine.reauth;
    if (!r?.needed) {
      mine.reauth = { needed: true, since: new Date(now).toISOString(), reason, deadRefreshFingerprint, lastNotifiedAt: new Date(now).toISOString() };
      return { kind: "first" as const, since: mine.reauth.since! };
    }
    const last = r.lastNotifiedAt ? Date.parse(r.lastNotifiedAt) : undefined;
    if (!reminderDue(last, now, config.notify.reminderHours * 3_600_000)) return { kind: "quiet" as const, since: r.since ?? "" };
    r.lastNotifiedAt = new Date(now).toISOString();
    return { kind: "reminder" as const, since: r.since ?? "", reason: r.reason ?? reason };
  });
  const shownReason = decision.kind === "reminder" ? decision.reason : reason;
  // The flag lives beside OpenClaw's files, often a user's place: written with that owner's rights.
  await writeFileAsOwner(flag, flagText({ reason: shownReason, since: decision.since, fix, credentials: config.credentials }), { newFileMode: 0o644 }).catch((error) =>
    logger.error(`cannot write ${flag}: ${error?.message ?? error}`),
  );
  if (decision.kind === "quiet") return;
  logger.error(`re-authentication needed: ${shownReason}. Run: ${fix}. Flag: ${flag}`);
  const host = thisHost(config.notify.host);
  await deps.notify(reauthEvent(decision.kind === "first" ? "reauth-needed" : "reauth-reminder", host, now, { reason: shownReason, since: decision.since, fix, flagFile: flag }));
}

/**
 * A fresh login appeared after a dead one: remove the flag, clear the record, say so. Returns true when it did
 * (the caller then syncs). A leftover flag of ours without a record (state file lost) is removed too.
 */
export async function noticeRecovery(config: Config, login: Login, deps: ReauthDeps): Promise<boolean> {
  if (login.kind !== "live") return false;
  const flag = flagFile(config);
  const recovered = await reauthSection.update(config.stateDir, (mine) => {
    if (!mine.reauth?.needed || !isNewLogin(login, mine.reauth.deadRefreshFingerprint)) return false;
    mine.reauth = undefined;
    return true;
  });
  const leftover = !recovered && (readTextIfRegular(flag, 64 * 1024) ?? "").startsWith(FLAG_MARK);
  if (!recovered && !leftover) return false;
  await removeFileAsOwner(flag).catch((error) => logger.error(`cannot remove ${flag}: ${error?.message ?? error}`));
  if (!recovered) return false;
  const expiresAt = formatTime(login.expiresAt);
  logger.success(`login recovered: token ${login.accessFingerprint} (expires ${expiresAt}); removed ${flag}`);
  await deps.notify(recoveredEvent(thisHost(config.notify.host), deps.now(), { fingerprint: login.accessFingerprint, expiresAt }));
  return true;
}

/** Pure: is a dead login on record that this file does not replace? */
export function stillDead(login: Login, reauth: { needed?: boolean; deadRefreshFingerprint?: string } | undefined): boolean {
  return Boolean(reauth?.needed) && !isNewLogin(login, reauth?.deadRefreshFingerprint);
}
