import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readCredentials } from "../credentials/read.ts";
import { fingerprint } from "../log/redact.ts";
import type { Found } from "./openclaw.ts";

export interface ClaudeLogin {
  path: string;
  uid: number;
  home: string;
  fingerprint?: string;
  expiresAt?: number;
  problem?: string;
}

/** `~/.claude/.credentials.json` of root and of every user under /home: fingerprints and expiry, never tokens. */
export async function findClaudeLogins(root: string, now: number, extraHomes: string[] = []): Promise<Found<ClaudeLogin>[]> {
  const homes = [...new Set(["/root", ...(await readdir(join(root, "/home")).catch(() => [] as string[])).map((u) => join("/home", u)), ...extraHomes])];
  return loginsAt(root, homes.map((home) => join(home, ".claude/.credentials.json")), now);
}

export async function loginsAt(root: string, paths: string[], now: number, via = ""): Promise<Found<ClaudeLogin>[]> {
  const found: Found<ClaudeLogin>[] = [];
  for (const path of paths) {
    const info = await stat(join(root, path)).catch(() => undefined);
    if (!info) continue;
    const home = dirname(dirname(path));
    const read = await readCredentials(join(root, path), now);
    const login: ClaudeLogin = read.ok
      ? { path, uid: info.uid, home, fingerprint: fingerprint(read.credentials.accessToken), expiresAt: read.credentials.expiresAt }
      : { path, uid: info.uid, home, problem: read.message };
    found.push({ value: login, source: `${path} (uid ${info.uid}${via ? `, ${via}` : ""})` });
  }
  return found;
}

/**
 * Pure: the login to follow — a fresh one (not expired at `now`) that lives longest; an expired one only where no
 * fresh one exists; else any, so its problem is shown.
 */
export function pickLogin(logins: Found<ClaudeLogin>[], now = Date.now()): Found<ClaudeLogin> | undefined {
  const usable = logins.filter((l) => !l.value.problem).sort((a, b) => (b.value.expiresAt ?? 0) - (a.value.expiresAt ?? 0));
  const fresh = usable.filter((l) => (l.value.expiresAt ?? 0) > now);
  return fresh[0] ?? usable[0] ?? logins[0];
}

/** Pure: CLAUDE_CONFIG_DIR in a process's NUL-separated environment. */
export function configDirOf(environ: string): string | undefined {
  return environ.split("\0").find((e) => e.startsWith("CLAUDE_CONFIG_DIR="))?.slice("CLAUDE_CONFIG_DIR=".length) || undefined;
}

/** CLAUDE_CONFIG_DIR values seen in running processes (a CLI or a shell started with one): where logins may live. */
export async function configDirsSeen(): Promise<string[]> {
  const pids = (await readdir("/proc").catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
  const dirs = new Set<string>();
  for (const pid of pids) {
    const environ = await readFile(`/proc/${pid}/environ`, "latin1").catch(() => "");
    const dir = configDirOf(environ);
    if (dir?.startsWith("/")) dirs.add(dir);
  }
  return [...dirs];
}
