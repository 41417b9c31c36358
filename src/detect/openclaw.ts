import { readTextIfRegular } from "../fs/open-file.ts";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ProcessRunner } from "../process/run.ts";
import { resolveCompose } from "./compose-resolve.ts";
import { dockerEnv } from "../gateway/compose.ts";

/** A finding and where it came from, so a person can judge it (and override it with a flag). */
export interface Found<T> {
  value: T;
  source: string;
}

export interface OpenClawInstall {
  kind: "compose" | "native" | "podman";
  /** A named profile (`openclaw --profile NAME`, state in ~/.openclaw-NAME). */
  profile?: string;
  /** The user whose home holds a native or Podman install: openclaw runs as them. */
  owner?: { user: string; home: string; uid?: number };
  /** The openclaw that user runs (the unit's ExecStart, nvm, the npm prefix, ~/.local/bin), and the PATH dir it needs. */
  cli?: { argv: string[]; pathDir?: string };
  /** A Podman Quadlet: the container the user unit runs. */
  container?: string;
  /** The gateway's unit, where one was found: a user unit of `owner`, or a system unit. */
  unit?: { name: string; user?: string; source: string };
  /** The OpenClaw state dir on the host (what the container mounts at /home/node/.openclaw). */
  stateDir: string;
  projectDir?: string;
  composeFile?: string;
  /** How the gateway container runs the CLI (`["node", "dist/index.js"]` in upstream's compose); else `openclaw`. */
  containerCli?: string[];
  /** Every file compose reads for the project (base, override, COMPOSE_FILE, setup.sh's extra file), in order. */
  composeFiles?: string[];
  service?: string;
  /** The gateway's image, for its version label. */
  image?: string;
  release?: string;
  agents: string[];
  /** Auth is kept in SQLite (2026.6+), whatever the release says. */
  sqlite: boolean;
  /** auth-profiles.json / credentials/oauth.json present: harmless up to 2026.5, fatal to 2026.8+. */
  legacyJson: string[];
  /** Where the agent list came from: openclaw.json (`agents.entries`/`agents.list`), the agents/ dir, or the default. */
  agentsFrom?: string;
  /** Agents on the Claude CLI runtime: Claude Code refreshes their login itself, no sync needed. */
  claudeCliAgents?: string[];
  /** openclaw.json is there. */
  hasConfig?: boolean;
  /** The compose project's .env assigns ANTHROPIC_OAUTH_TOKEN (the user feeds the token through the environment). */
  envToken?: boolean;
  /** Paths derived from the files that do not exist on this machine. */
  missing?: string[];
  /** What compose (or the interpolation) could not resolve. */
  problems?: string[];
  /** What a person should fix, though the install was found (not scored). */
  warnings?: string[];
  /** Agent names that are not plain ids (shown escaped): skipped, said so. */
  skippedAgents?: string[];
  /** Who owns `agents/`: where that is someone else, install asks before proposing many agents. */
  agentsOwner?: number;
}

const CONTAINER_STATE_DIR = "/home/node/.openclaw";

/** Directories where people keep compose projects and OpenClaw homes, under `root` (a seam for tests). */
export async function candidateDirs(root: string, extra: string[] = [], only?: string): Promise<string[]> {
  const listed = async (dir: string) => (await readdir(join(root, dir)).catch(() => [] as string[])).map((name) => join(dir, name));
  if (only) return listed(only);
  const homes = ["/root", ...(await listed("/home"))];
  const dirs = [...(await listed("/opt")), ...(await listed("/srv")), ...homes, ...(await Promise.all(homes.map(listed))).flat(), ...extra];
  return [...new Set(dirs)];
}

/**
 * A compose project whose services run OpenClaw, resolved the way compose resolves it (compose-resolve.ts): the
 * gateway service, its state dir (a bind mount, or a named volume found through `docker volume inspect`), the
 * image's release, and every compose file the project uses. A derived path that does not exist is reported.
 */
export async function composeInstall(root: string, dir: string, run?: ProcessRunner, home = homeOf(dir)): Promise<Found<OpenClawInstall> | undefined> {
  const resolved = await resolveCompose(root, dir, { home, run });
  if (!resolved) return undefined;
  // OpenClaw by its image or command, or by what it mounts: a custom image name still mounts OpenClaw's state dir.
  const services = Object.entries(resolved.services).filter(
    ([, s]) => /openclaw/i.test(`${s.image ?? ""} ${JSON.stringify(s.command ?? "")} ${JSON.stringify(s.entrypoint ?? "")}`) || s.volumes.some((v) => v.target === CONTAINER_STATE_DIR),
  );
  const mounted = services.filter(([, s]) => s.volumes.some((v) => v.target === CONTAINER_STATE_DIR));
  const gateway = mounted.find(([name]) => /gateway/.test(name)) ?? mounted[0];
  if (!gateway) {
    if (!resolved.errors.length) return undefined;
    const texts = resolved.files.map((f) => readTextIfRegular(join(root, f)) ?? "");
    if (!services.length && !texts.some((t) => /openclaw/i.test(t))) return undefined;
    // An OpenClaw project compose cannot read: show it with compose's own words rather than guess.
    return {
      value: { kind: "compose", stateDir: "", projectDir: dir, composeFile: resolved.files[0], composeFiles: resolved.files, agents: [], sqlite: false, legacyJson: [], missing: [], problems: resolved.errors },
      source: `${resolved.files.join(" + ")}: ${resolved.errors.join("; ")}`,
    };
  }
  const [service, spec] = gateway;
  const mount = spec.volumes.find((v) => v.target === CONTAINER_STATE_DIR)!;
  let stateDir = mount.source;
  let via = "";
  const problems = [...resolved.errors];
  const warnings: string[] = [];
  if (mount.type === "volume") {
    const volume = resolved.volumeNames[mount.source] ?? mount.source;
    const mountpoint = run ? await volumeMountpoint(volume, run) : undefined;
    via = ` (volume ${volume})`;
    // Not found (no docker here, or not created yet): no state dir is guessed; install stops with the problem.
    stateDir = mountpoint ?? "";
    if (!mountpoint) problems.push(`named volume ${volume} not found through the docker engine`);
  }
  const missing = [...(resolved.missingFiles ?? []), ...(mount.type === "bind" && !(await stat(join(root, stateDir)).catch(() => undefined)) ? [stateDir] : [])];
  // oauth-sync runs compose as root (HOME=/root): where the mount follows HOME, a recreate would mount another dir.
  if (mount.type === "bind" && home !== "/root") {
    const asRoot = await resolveCompose(root, dir, { home: "/root" });
    const rootMount = asRoot?.services[service]?.volumes.find((v) => v.target === CONTAINER_STATE_DIR);
    if (rootMount && rootMount.source !== stateDir) {
      warnings.push(`the state mount follows HOME (${stateDir} for ${home}, ${rootMount.source} for root): set OPENCLAW_CONFIG_DIR=${stateDir} in ${join(dir, ".env")} before letting oauth-sync recreate the gateway`);
    }
  }
  const imageRelease = /openclaw[^:\s]*:v?(\d{4}\.\d+\.\d+)/.exec(spec.image ?? "")?.[1];
  const release = imageRelease ?? (await packageRelease(root, stateDir));
  const files = resolved.files.join(" + ");
  const cli = cliInContainer(spec.command, spec.entrypoint);
  return {
    value: {
      kind: "compose",
      stateDir,
      projectDir: dir,
      composeFile: resolved.files[0],
      composeFiles: resolved.files,
      service,
      image: spec.image || undefined,
      release,
      ...(await stateFacts(root, stateDir)),
      missing,
      problems,
      warnings,
      ...(cli ? { containerCli: cli } : {}),
      envToken: /^\s*(export\s+)?ANTHROPIC_OAUTH_TOKEN\s*=/m.test((readTextIfRegular(join(root, dir, ".env")) ?? "")),
    },
    source:
      `${files} (${resolved.via}${resolved.notes.length ? `; ${resolved.notes.join("; ")}` : ""}): service ${service}, state ${stateDir}${via}` +
      `${missing.length ? " (MISSING)" : ""}${release ? `, release ${release} (${imageRelease ? "image tag" : "openclaw.json"})` : ""}`,
  };
}

/**
 * Pure: how the gateway's own image runs OpenClaw, from the service's command or entrypoint (upstream's compose runs
 * `node dist/index.js gateway …`; older images have no `openclaw` on PATH). Undefined: use `openclaw`.
 */
export function cliInContainer(command: unknown, entrypoint: unknown): string[] | undefined {
  for (const value of [entrypoint, command]) {
    const argv = Array.isArray(value) ? value.map(String) : typeof value === "string" ? value.trim().split(/\s+/) : [];
    if (/^(\/\S*\/)?node$/.test(argv[0] ?? "") && /(^|\/)(dist\/index\.js|openclaw\.mjs)$/.test(argv[1] ?? "")) return argv.slice(0, 2);
  }
  return undefined;
}

/** The home of the user a project dir belongs to (compose takes HOME from the shell of whoever runs it). */
export function homeOf(dir: string): string {
  const match = /^(\/home\/[^/]+|\/root)(?:\/|$)/.exec(dir);
  if (match) return match[1]!;
  const sudoHome = process.env.SUDO_USER ? `/home/${process.env.SUDO_USER}` : undefined;
  return sudoHome ?? process.env.HOME ?? "/root";
}

async function volumeMountpoint(volume: string, run: ProcessRunner): Promise<string | undefined> {
  const result = await run(["docker", "volume", "inspect", "--format", "{{.Mountpoint}}", volume], { env: dockerEnv(), timeoutMs: 15_000 });
  const path = result.code === 0 ? result.stdout.trim() : "";
  return path.startsWith("/") ? path : undefined;
}

/** Where images keep OpenClaw's package.json: the official image builds in /app; others `npm install -g`. */
const IMAGE_PACKAGE_JSON = ["/app/package.json", "/usr/local/lib/node_modules/openclaw/package.json", "/usr/lib/node_modules/openclaw/package.json", "/opt/openclaw/package.json"];

/** Pure: the release in an OpenClaw package.json (or a tar stream holding one), none for another package. */
export function releaseOfPackageJson(text: string): string | undefined {
  if (!/"name"\s*:\s*"openclaw"/.test(text)) return undefined;
  return /"version"\s*:\s*"(\d{4}\.\d+\.\d+)/.exec(text)?.[1];
}

/**
 * The release in the package.json inside an image, read without running it: `docker create` (never started, no
 * network), `docker cp` of the candidate files, `docker rm`.
 */
export async function imagePackageRelease(image: string, run: ProcessRunner): Promise<{ release: string; path: string } | undefined> {
  const docker = (...args: string[]) => run(["docker", ...args], { env: dockerEnv(), timeoutMs: 30_000 });
  const workdir = (await docker("image", "inspect", "--format", "{{.Config.WorkingDir}}", image)).stdout.trim();
  const created = await docker("create", "--network", "none", "--entrypoint", "/nonexistent", image);
  const id = created.stdout.trim();
  if (created.code !== 0 || !/^[0-9a-f]{12,}$/.test(id)) return undefined;
  try {
    const paths = [...new Set([...(workdir.startsWith("/") ? [join(workdir, "package.json")] : []), ...IMAGE_PACKAGE_JSON])];
    for (const path of paths) {
      const copied = await docker("cp", `${id}:${path}`, "-");
      const release = copied.code === 0 ? releaseOfPackageJson(copied.stdout) : undefined;
      if (release) return { release, path };
    }
    return undefined;
  } finally {
    await docker("rm", "-f", id);
  }
}

/** An agent id a target may carry: what OpenClaw's own ids look like, and nothing a terminal or a unit would read. */
const PLAIN_AGENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A name from someone else's directory, shown without anything a terminal would act on. */
export function printable(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(shown).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export async function stateFacts(root: string, stateDir: string) {
  const listed = (await readdir(join(root, stateDir, "agents")).catch(() => [] as string[])).sort();
  const config = await readOpenClawJson(root, stateDir);
  const named = [...configuredAgents(config), ...listed];
  // A name that is not plain is skipped, never fatal: one user's odd directory must not block the install.
  const skippedAgents = [...new Set(named.filter((a) => !PLAIN_AGENT.test(a)))].map(printable);
  const dirs = listed.filter((a) => PLAIN_AGENT.test(a));
  const configured = configuredAgents(config).filter((a) => PLAIN_AGENT.test(a));
  const agentsOwner = (await stat(join(root, stateDir, "agents")).catch(() => undefined))?.uid;
  const agents = [...new Set([...configured, ...dirs])].sort((a, b) => (a === "main" ? -1 : b === "main" ? 1 : a.localeCompare(b)));
  const markers = [join(stateDir, "state/openclaw.sqlite"), ...dirs.map((id) => join(stateDir, "agents", id, "agent/openclaw-agent.sqlite"))];
  const exists = async (path: string) => Boolean(await stat(join(root, path)).catch(() => undefined));
  let sqlite = false;
  for (const marker of markers) if (await exists(marker)) sqlite = true;
  const legacy = [join(stateDir, "credentials/oauth.json"), ...dirs.map((id) => join(stateDir, "agents", id, "agent/auth-profiles.json"))];
  const legacyJson: string[] = [];
  for (const path of legacy) if (await exists(path)) legacyJson.push(path);
  const all = agents.length ? agents : ["main"];
  return {
    agents: all,
    agentsFrom: configured.length ? "openclaw.json" : dirs.length ? "agents/" : "default",
    claudeCliAgents: claudeCliAgents(config, all),
    hasConfig: config !== undefined,
    sqlite,
    legacyJson,
    ...(skippedAgents.length ? { skippedAgents } : {}),
    ...(agentsOwner !== undefined ? { agentsOwner } : {}),
  };
}

async function readOpenClawJson(root: string, stateDir: string): Promise<Record<string, any> | undefined> {
  const text = readTextIfRegular(join(root, stateDir, "openclaw.json"));
  if (text === undefined) return undefined;
  try {
    return Bun.JSON5.parse(text) as Record<string, any>;
  } catch {
    return {};
  }
}

/** Pure: agent ids in openclaw.json: `agents.entries` (2026.9) or `agents.list[].id` (earlier releases). */
export function configuredAgents(config: Record<string, any> | undefined): string[] {
  const agents = config?.agents;
  if (!agents || typeof agents !== "object") return [];
  const ids = new Set<string>();
  if (agents.entries && typeof agents.entries === "object") for (const id of Object.keys(agents.entries)) ids.add(id);
  if (Array.isArray(agents.list)) for (const a of agents.list) if (typeof a?.id === "string") ids.add(a.id);
  return [...ids];
}

/**
 * Pure: agents whose model runs on the Claude CLI runtime (`agentRuntime: { id: "claude-cli" }` on the agent, on its
 * model entries, or on the defaults' entry for its model): Claude Code drives them with its own login.
 */
export function claudeCliAgents(config: Record<string, any> | undefined, agents: string[]): string[] {
  if (!config?.agents) return [];
  const isCli = (v: any) => v?.agentRuntime?.id === "claude-cli";
  const entryOf = (id: string) => config.agents.entries?.[id] ?? (Array.isArray(config.agents.list) ? config.agents.list.find((a: any) => a?.id === id) : undefined);
  const modelOf = (m: any) => (typeof m === "string" ? m : m?.primary);
  const defaults = config.agents.defaults ?? {};
  return agents.filter((id) => {
    const entry = entryOf(id) ?? {};
    if (isCli(entry)) return true;
    const model = modelOf(entry.model) ?? modelOf(defaults.model);
    const own = entry.models?.[model];
    if (own) return isCli(own);
    if (model && isCli(defaults.models?.[model])) return true;
    return !entry.model && isCli(defaults);
  });
}

/** The release OpenClaw last wrote into its config (`meta.lastTouchedVersion`), where it did. */
export async function packageRelease(root: string, stateDir: string): Promise<string | undefined> {
  const text = (readTextIfRegular(join(root, stateDir, "openclaw.json")) ?? "");
  return /"lastTouchedVersion"\s*:\s*"(\d{4}\.\d+\.\d+)/.exec(text)?.[1];
}

/** Pure: releases from 2026.6 keep auth profiles in SQLite. */
export function isSqliteEra(release: string | undefined): boolean | undefined {
  const match = release ? /^(\d{4})\.(\d+)\./.exec(release) : null;
  if (!match) return undefined;
  const [year, month] = [Number(match[1]), Number(match[2])];
  return year > 2026 || (year === 2026 && month >= 6);
}
