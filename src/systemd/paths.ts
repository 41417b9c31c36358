import { dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { flagFile } from "../refresh/reauth.ts";

const HOME_ROOTS = ["/home", "/root", "/run/user"];

const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** Pure: the directories the service must write — each target's, the state dir, the credentials dir, the flag's. */
export function writablePaths(config: Config): string[] {
  const paths = new Set<string>([config.stateDir, dirname(config.credentials), dirname(flagFile(config))]);
  for (const target of config.targets) if ("path" in target) paths.add(dirname(target.path));
  for (const target of config.targets) if (target.kind === "exec") for (const dir of target.writes) paths.add(dir);
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
export function protectHome(paths: string[], readPaths: string[] = []): "yes" | "read-only" | "no" {
  if (paths.some((path) => HOME_ROOTS.includes(path))) return "no";
  return [...paths, ...readPaths].some((path) => HOME_ROOTS.some((root) => under(path, root))) ? "read-only" : "yes";
}

/** Pure: the docker CLI runs for the gateway, the trigger or a target. */
export function usesDocker(config: Config): boolean {
  return (
    config.gateway.kind === "compose" ||
    config.trigger.mode === "container" ||
    config.targets.some((t) => t.kind === "openclaw-cli" && /(^|\/)docker$/.test(t.command[0] ?? ""))
  );
}

/**
 * Pure: what the service must read below a home besides its credentials: the docker CLI finds plugins such as
 * `compose` in `~/.docker/cli-plugins` (where a manual install puts it), so it needs root's HOME visible; ssh reads
 * each push target's key and known_hosts file.
 */
export function readablePaths(config: Config): string[] {
  const sshFiles = config.targets.flatMap((t) => (t.kind === "ssh" ? [t.identityFile, t.knownHostsFile] : []));
  // An exec target's program may live in its user's home (ProtectHome would hide it).
  const programs = config.targets.flatMap((t) => (t.kind === "exec" && t.command[0]!.startsWith("/") ? [t.command[0]!] : []));
  return [config.credentials, ...sshFiles, ...programs, ...(usesDocker(config) ? ["/root/.docker"] : [])];
}

const BASE_CAPABILITIES = ["CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"];

/**
 * Pure: the capabilities the service keeps. Files of other users are written keeping owner and mode (CHOWN, FOWNER,
 * DAC_*), a gateway may be signalled (KILL), the CLI runs as its user (SETUID, SETGID). sd-bus may demand
 * CAP_SYS_ADMIN of a root caller managing units (systemd 252 did not): kept for the systemd gateway as a margin.
 * A `command` gateway may need anything: no limit.
 */
export function capabilities(config: Config): string | undefined {
  if (config.gateway.kind === "command") return undefined;
  return [...BASE_CAPABILITIES, ...(config.gateway.kind === "systemd" ? ["CAP_SYS_ADMIN"] : [])].join(" ");
}
