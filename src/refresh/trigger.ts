import { readFile, stat } from "node:fs/promises";
import type { ProcessRunner, RunResult } from "../process/run.ts";
import { containerInvocation, hostInvocation, type Invocation } from "./invocation.ts";
import type { ContainerTriggerConfig, HostTriggerConfig } from "./schema.ts";

export type CliTrigger = HostTriggerConfig | ContainerTriggerConfig;

export type TriggerRun =
  | { ok: true; result: RunResult; describe: string }
  /** The command could not be set up or started at all: a configuration problem, not a transient one. */
  | { ok: false; misconfigured: true; message: string };

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Pure: /etc/passwd → entries. */
export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split("\n")
    .map((line) => line.split(":"))
    .filter((f) => f.length >= 7 && f[0] && !f[0].startsWith("#"))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

/** Pure: which user runs the CLI. Root runs it as the configured user, or as the owner of the credentials file. */
export function chooseUser(
  selfUid: number,
  configured: string | undefined,
  owner: { uid: number; gid: number } | undefined,
  passwd: PasswdEntry[],
): { ok: true; runAs?: PasswdEntry } | { ok: false; message: string } {
  const find = (key: string | number) => passwd.find((e) => (typeof key === "number" ? e.uid === key : e.name === key || String(e.uid) === key));
  if (configured) {
    const entry = find(configured);
    if (!entry) return { ok: false, message: `trigger.user "${configured}" is not in /etc/passwd` };
    if (entry.uid === selfUid) return { ok: true };
    if (selfUid !== 0) return { ok: false, message: `trigger.user "${configured}": only root can run the CLI as another user` };
    return { ok: true, runAs: entry };
  }
  if (selfUid !== 0 || !owner || owner.uid === selfUid) return { ok: true };
  const entry = find(owner.uid);
  return { ok: true, runAs: entry ?? { name: String(owner.uid), uid: owner.uid, gid: owner.gid, home: "/" } };
}

async function hostSetup(trigger: HostTriggerConfig, credentials: string): Promise<{ ok: true; invocation: Invocation } | { ok: false; message: string }> {
  const selfUid = process.getuid?.() ?? 0;
  const info = await stat(credentials).catch(() => undefined);
  const passwd = parsePasswd(await readFile("/etc/passwd", "utf8").catch(() => ""));
  const user = chooseUser(selfUid, trigger.user, info && { uid: info.uid, gid: info.gid }, passwd);
  if (!user.ok) return user;
  const runAs = user.runAs && { uid: user.runAs.uid, gid: user.runAs.gid, home: user.runAs.home };
  return { ok: true, invocation: hostInvocation(trigger, { credentials, env: process.env, runAs }) };
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
