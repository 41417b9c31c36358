import { dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { flagFile } from "../refresh/reauth.ts";

const HOME_ROOTS = ["/home", "/root", "/run/user"];

const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** Pure: the directories the service must write — each target's, the state dir, the credentials dir, the flag's. */
export function writablePaths(config: Config): string[] {
  const paths = new Set<string>([config.stateDir, dirname(config.credentials), dirname(flagFile(config))]);
  for (const target of config.targets) if ("path" in target) paths.add(dirname(target.path));
  // The CLI also writes beside its config dir (`CONFIGDIR.lock`, `~/.claude.json`): it needs the parent.
  if (config.trigger.mode === "host" || config.trigger.mode === "direct") paths.add(dirname(dirname(config.credentials)));
  return minimal([...paths]);
}

/** Drop paths already covered by a parent in the list. */
function minimal(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  return sorted.filter((path) => !sorted.some((other) => other !== path && under(path, other)));
}

/**
 * Pure: `yes` hides /home, /root and /run/user; `read-only` where the service must reach below one of them (its
 * ReadWritePaths then open exactly those); `no` where it must write one of them as a whole (root's HOME, for the
 * CLI's `~/.claude.json`): systemd keeps ProtectHome's read-only mount of that same path over a ReadWritePaths of it.
 */
export function protectHome(paths: string[]): "yes" | "read-only" | "no" {
  if (paths.some((path) => HOME_ROOTS.includes(path))) return "no";
  return paths.some((path) => HOME_ROOTS.some((root) => under(path, root))) ? "read-only" : "yes";
}
