import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readCredentials } from "../credentials/read.ts";
import { fingerprint } from "../log/redact.ts";
import type { Found } from "./detect-openclaw.ts";

export interface ClaudeLogin {
  path: string;
  uid: number;
  home: string;
  fingerprint?: string;
  expiresAt?: number;
  problem?: string;
}

/** `~/.claude/.credentials.json` of root and of every user under /home: fingerprints and expiry, never tokens. */
export async function findClaudeLogins(root: string, now: number): Promise<Found<ClaudeLogin>[]> {
  const homes = ["/root", ...(await readdir(join(root, "/home")).catch(() => [] as string[])).map((u) => join("/home", u))];
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

/** Pure: the login to follow — a usable one that lives longest; else any, so its problem is shown. */
export function pickLogin(logins: Found<ClaudeLogin>[]): Found<ClaudeLogin> | undefined {
  const usable = logins.filter((l) => !l.value.problem).sort((a, b) => (b.value.expiresAt ?? 0) - (a.value.expiresAt ?? 0));
  return usable[0] ?? logins[0];
}
