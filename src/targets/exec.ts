import type { ExecTargetConfig } from "../config/schema.ts";
import type { ClaudeCredentials } from "../credentials/parse.ts";
import { selfUid } from "../fs/place.ts";
import { credentialsFor } from "../privilege/crossing.ts";
import { logLine } from "../log/sanitize.ts";
import { outputTail } from "../process/output.ts";
import { loadAccounts, type PasswdEntry } from "../users/accounts.ts";
import { checkProgram, PROGRAM_PATH } from "./exec-program.ts";
import { comparedWithDelivered } from "./newer.ts";
import type { SyncContext, Target, TargetOutcome } from "./types.ts";
import { targetId } from "./types.ts";

/** How much of the program's own output a message quotes: it is the program's text, not ours. */
const SHOWN_CHARS = 300;

/** Pure: the one line on the program's stdin, with the fields it asked for and nothing else. */
export function execPayload(credentials: ClaudeCredentials, fields: ExecTargetConfig["fields"]): string {
  const line: Record<string, string | number> = {};
  for (const field of fields) {
    const value = credentials[field];
    if (value !== undefined && value !== null) line[field] = value;
  }
  return `${JSON.stringify(line)}\n`;
}

/**
 * Pure: may this run hand over the refresh token? It is the login itself (whoever holds it can mint tokens, and
 * spending it logs the CLI out), so it goes only where it was asked for and the program runs as the user who owns
 * that login already. A pushed token has no login here (`loginUid` undefined): never.
 */
export function refreshTokenRefusal(fields: ExecTargetConfig["fields"], runAs: number, loginUid: number | undefined, credentials: ClaudeCredentials): string | undefined {
  if (!fields.includes("refreshToken")) return undefined;
  if (loginUid === undefined) return 'asks for "refreshToken", but this token came without its login (pushed): refused';
  if (runAs !== loginUid) return `asks for "refreshToken", which never leaves the login's owner (uid ${loginUid}), but runs as uid ${runAs}: refused (remove it from "fields")`;
  if (!credentials.refreshToken) return 'asks for "refreshToken", but the login holds none: refused';
  return undefined;
}

/** Pure: as whom the program runs: the configured user (a name or a uid); only root may run it as someone else. */
export function execUser(configured: string, self: number, passwd: PasswdEntry[]): { ok: true; entry: PasswdEntry } | { ok: false; message: string } {
  const entry = passwd.find((e) => e.name === configured) ?? (/^\d+$/.test(configured) ? passwd.find((e) => e.uid === Number(configured)) : undefined);
  if (!entry) return { ok: false, message: `user "${configured}" is not in /etc/passwd` };
  if (self !== 0 && entry.uid !== self) return { ok: false, message: `runs as ${entry.name}, but only root can run a program as another user` };
  return { ok: true, entry };
}

/** Pure: the program's whole environment: ours for PATH and the user's identity, the operator's extras besides. */
export function execEnv(entry: PasswdEntry, extra: Record<string, string>): Record<string, string> {
  return { LANG: "C.UTF-8", ...extra, PATH: PROGRAM_PATH.join(":"), HOME: entry.home || "/", USER: entry.name, LOGNAME: entry.name };
}

/** Pure: the last lines a program printed, as a message may quote them: one log line (src/log/sanitize.ts), bounded. */
export function quoteOutput(text: string): string {
  const shown = logLine(outputTail(text, 3));
  return shown.length > SHOWN_CHARS ? `${shown.slice(0, SHOWN_CHARS)}…` : shown;
}

/**
 * A program of the operator's that takes the token its own way (a secret store, `kubectl`, anything): run as
 * `user`, the fields it asked for on stdin as one JSON line (never in its argv or environment), bounded in time with
 * everything it starts, its exit status the outcome. It cannot be read back, so "unchanged" and "older" are decided
 * from the state record of what it last took (src/targets/newer.ts).
 */
export function execTarget(config: ExecTargetConfig): Target {
  const id = targetId(config);
  const program = config.command[0]!;
  return {
    id,
    config,
    async sync(credentials: ClaudeCredentials, context: SyncContext): Promise<TargetOutcome> {
      const before = comparedWithDelivered(context.state, credentials);
      if (before === "same" && !context.force) return { id, status: "unchanged" };
      if (typeof before === "object" && !config.replaceNewer && !context.force) return { id, status: "refused", message: before.refusal };
      const user = execUser(config.user, selfUid(), loadAccounts().passwd);
      if (!user.ok) return { id, status: "refused", message: user.message };
      const runAs = user.entry;
      const secret = refreshTokenRefusal(config.fields, runAs.uid, context.loginUid, credentials);
      if (secret) return { id, status: "refused", message: secret };
      const checked = checkProgram(program, runAs.uid);
      if (!checked.ok) return { id, status: "refused", message: checked.message };
      const asOther = runAs.uid !== selfUid();
      const result = await context.run([checked.path, ...config.command.slice(1)], {
        stdin: execPayload(credentialsFor(config, credentials), config.fields),
        env: execEnv(runAs, config.env),
        cwd: "/",
        timeoutMs: config.timeoutSeconds * 1000,
        group: true,
        ...(asOther ? { uid: runAs.uid, gid: runAs.gid } : {}),
      });
      if (result.spawnError) return { id, status: "failed", message: `cannot run ${program} as ${runAs.name}: ${quoteOutput(result.spawnError)}` };
      if (result.timedOut) return { id, status: "failed", message: `${program} did not finish within ${config.timeoutSeconds}s: killed, with whatever it started` };
      if (result.code !== 0) {
        const said = quoteOutput(result.stderr) || quoteOutput(result.stdout) || "no output";
        return { id, status: "failed", message: `${program} exited ${result.code ?? "on a signal"}: ${said}` };
      }
      return { id, status: "written" };
    },
  };
}
