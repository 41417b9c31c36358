import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { placeOf, selfUid } from "../fs/place.ts";
import { chooseUser, ownerOfDir, type RunAsWords } from "../privilege/owner-run.ts";
import { loadAccounts, type PasswdEntry } from "../users/accounts.ts";
import type { ProcessRunner, RunResult } from "../process/run.ts";
import { containerInvocation, hostInvocation, type Invocation } from "./invocation.ts";
import type { ContainerTriggerConfig, HostTriggerConfig } from "../config/refresh.ts";

export type CliTrigger = HostTriggerConfig | ContainerTriggerConfig;

export type TriggerRun =
  | { ok: true; result: RunResult; describe: string }
  /** The command could not be set up or started at all: a configuration problem, not a transient one. */
  | { ok: false; misconfigured: true; message: string };

const CLI_WORDS: RunAsWords = { setting: "trigger.user", program: "the CLI", reads: "its login" };

/** Pure: which user runs the CLI: the owner of the login's directory (src/privilege/owner-run.ts). */
export function chooseCliUser(selfUid: number, configured: string | undefined, owner: { uid: number; gid: number }, passwd: PasswdEntry[], dir: string) {
  return chooseUser(selfUid, configured, owner, passwd, dir, CLI_WORDS);
}

async function hostSetup(trigger: HostTriggerConfig, credentials: string): Promise<{ ok: true; invocation: Invocation } | { ok: false; message: string }> {
  const place = placeOf(credentials);
  if (!place.ok) return { ok: false, message: `${dirname(credentials)}: ${place.message}` };
  const accounts = loadAccounts();
  const user = chooseCliUser(selfUid(), trigger.user, place.actor, accounts.passwd, dirname(credentials));
  if (!user.ok) return user;
  if (trigger.home) {
    const home = ownerOfDir(trigger.home);
    const homeOwner = home.ok ? home.actor.uid : undefined;
    if (homeOwner !== place.actor.uid) {
      return { ok: false, message: `trigger.home ${trigger.home} does not belong to the owner of ${dirname(credentials)}: ${home.ok ? `uid ${homeOwner}` : home.message}` };
    }
  }
  const runAs = user.runAs && { uid: user.runAs.uid, gid: user.runAs.gid, home: user.runAs.home };
  const invocation = hostInvocation(trigger, { credentials, env: process.env, runAs });
  // A user without a home on disk (a service account) still gets a working directory.
  if (invocation.cwd && !existsSync(invocation.cwd)) invocation.cwd = "/";
  return { ok: true, invocation };
}

/** Runs the CLI once (host or container mode). Never a token on the command line: the CLI reads its own file. */
export async function runCliTrigger(trigger: CliTrigger, credentials: string, run: ProcessRunner): Promise<TriggerRun> {
  let invocation: Invocation;
  if (trigger.mode === "host") {
    const setup = await hostSetup(trigger, credentials);
    if (!setup.ok) return { ok: false, misconfigured: true, message: setup.message };
    invocation = setup.invocation;
  } else {
    invocation = containerInvocation(trigger, process.env);
  }
  const result = await run(invocation.argv, {
    env: invocation.env,
    timeoutMs: trigger.timeoutSeconds * 1000,
    cwd: invocation.cwd,
    uid: invocation.uid,
    gid: invocation.gid,
  });
  // A missing claude or docker binary: say so, it will not fix itself.
  if (result.spawnError && /command not found|EACCES|ENOENT/.test(result.spawnError)) {
    return { ok: false, misconfigured: true, message: `${result.spawnError} (trigger.${trigger.mode === "host" ? "claude" : "docker"})` };
  }
  if (trigger.mode === "container" && result.code !== 0 && /No such container|is not running/i.test(result.stderr)) {
    return { ok: false, misconfigured: true, message: `container ${trigger.container}: ${firstLine(result.stderr)}` };
  }
  const where = trigger.mode === "container" ? `docker exec ${trigger.container} ` : "";
  return { ok: true, result, describe: `${where}${trigger.claude} ${trigger.command === "prompt" ? "-p" : "auth status"}` };
}

export function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.slice(0, 300) ?? "";
}

/** One line about a run that did not refresh, for the log. */
export function describeRun(result: RunResult): string {
  if (result.timedOut) return "timed out";
  if (result.spawnError) return result.spawnError;
  const err = firstLine(result.stderr);
  return `exit ${result.code}${err ? `: ${err}` : ""}`;
}
