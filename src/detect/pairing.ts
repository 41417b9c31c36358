/**
 * Pure: whose login goes to whose OpenClaw. A Claude login is one person's subscription; an OpenClaw install belongs
 * to the user whose home holds it (or who owns it), else to the system (root). A pair of two different users is made
 * only when the operator says so: detection prefers, among the installs it ranked, the best one whose user has a
 * login, and reports a pair it could not make otherwise as crossing users.
 */
import type { PasswdEntry } from "../users/accounts.ts";
import type { Scored } from "./choose.ts";
import type { ClaudeLogin } from "./claude.ts";
import { pickLogin } from "./claude.ts";
import type { Found, OpenClawInstall } from "./openclaw.ts";

/** The account whose home holds `path` (the longest home that is a prefix; root and regular users only). */
export function userOfPath(path: string, passwd: PasswdEntry[]): string | undefined {
  const homes = passwd.filter((e) => (e.uid === 0 || e.uid >= 1000) && e.home.length > 1 && (path === e.home || path.startsWith(`${e.home}/`)));
  return homes.sort((a, b) => b.home.length - a.home.length)[0]?.name;
}

export function installUser(install: OpenClawInstall, passwd: PasswdEntry[]): string {
  return install.owner?.user ?? userOfPath(install.projectDir ?? install.stateDir, passwd) ?? "root";
}

export function loginUser(login: ClaudeLogin, passwd: PasswdEntry[]): string {
  return userOfPath(login.path, passwd) ?? passwd.find((e) => e.uid === login.uid)?.name ?? `uid ${login.uid}`;
}

export interface Pair {
  login?: Found<ClaudeLogin>;
  install?: Found<OpenClawInstall>;
  /** The two belong to different users: paired only with the operator's word. */
  cross?: { loginUser: string; installUser: string };
  /** The best two installs that could be paired scored the same. */
  tie: boolean;
}

/**
 * The pair to propose. `fixedLogin`/`fixedInstall`: what flags named (taken as given). Otherwise the best-ranked
 * install that has a usable login of its own user, with that user's best login; only where no such pair exists the
 * best install and the best login, reported as crossing users.
 */
export function pairUp(
  logins: Found<ClaudeLogin>[],
  ranked: Scored[],
  passwd: PasswdEntry[],
  now: number,
  fixed: { login?: Found<ClaudeLogin>; install?: Found<OpenClawInstall> } = {},
): Pair {
  const usable = logins.filter((l) => !l.value.problem);
  const ownLogin = (install: OpenClawInstall) => pickLogin(usable.filter((l) => loginUser(l.value, passwd) === installUser(install, passwd)), now);
  let login = fixed.login;
  let install = fixed.install;
  let tie = false;
  if (!install) {
    const candidates = login ? ranked.filter((r) => installUser(r.found.value, passwd) === loginUser(login!.value, passwd)) : ranked.filter((r) => ownLogin(r.found.value));
    const pool = candidates.length ? candidates : ranked;
    install = pool[0]?.found;
    tie = pool.length > 1 && pool[0]!.score === pool[1]!.score;
  }
  if (!login) login = (install && ownLogin(install.value)) || pickLogin(logins, now);
  if (!login || !install) return { login, install, tie };
  const [from, to] = [loginUser(login.value, passwd), installUser(install.value, passwd)];
  return { login, install, tie, ...(from !== to ? { cross: { loginUser: from, installUser: to } } : {}) };
}
