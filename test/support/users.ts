/**
 * Throw-away logins for tests that need a real unprivileged user. Each name is this process's own (prefix + pid), so
 * suites running at the same time never share, and so never remove, each other's user. `remove()` ends the login's
 * processes and deletes it with its group and /etc/subuid, /etc/subgid ranges: call it in afterAll (bun runs afterAll
 * even when beforeAll or a test failed). Needs root.
 */
import { spawnSync } from "node:child_process";

export interface TempUser {
  name: string;
  uid: number;
  gid: number;
  remove(): void;
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function run(command: string, args: string[]) {
  return spawnSync(command, args, { encoding: "utf8", env: { PATH } });
}

function must(command: string, args: string[]): string {
  const result = run(command, args);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.error}`);
  return result.stdout;
}

/** `<prefix>-<pid in base 36>`: at most 32 characters, useradd's default name rules. */
export function tempUserName(prefix: string): string {
  const name = `${prefix}-${process.pid.toString(36)}`;
  if (!/^[a-z][-a-z0-9]{0,31}$/.test(name)) throw new Error(`${name} is not a valid login name (lower-case letters, digits, -; 32 at most)`);
  return name;
}

/**
 * Creates the login (useradd; `useradd` arguments in `args`, e.g. --system, --home-dir, --shell). A login left by an
 * earlier run of this same process id is removed first.
 */
export function createTempUser(prefix: string, args: string[] = []): TempUser {
  const name = tempUserName(prefix);
  if (run("id", ["-u", name]).status === 0) removeUser(name);
  must("useradd", [...args, name]);
  const user: TempUser = {
    name,
    uid: Number(must("id", ["-u", name]).trim()),
    gid: Number(must("id", ["-g", name]).trim()),
    remove: () => removeUser(name),
  };
  return user;
}

/** Ends the login's processes, then userdel (its group and subordinate ranges go with it). Safe to call twice. */
export function removeUser(name: string): void {
  if (run("id", ["-u", name]).status !== 0) return;
  run("pkill", ["-KILL", "-u", name]);
  for (let i = 0; i < 50 && run("pgrep", ["-u", name]).status === 0; i++) Bun.sleepSync(20);
  must("userdel", [name]);
  if (run("getent", ["group", name]).status === 0) must("groupdel", [name]);
}
