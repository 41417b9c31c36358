import { ownerRun } from "../privilege/owner-run.ts";
import { outputTail } from "../process/output.ts";
import { readTextIfRegular, readTextOrThrow } from "../fs/open-file.ts";
/**
 * A compose project as compose itself sees it: which files (COMPOSE_FILE in `.env`, or the default file with its
 * override, plus the `docker-compose.extra.yml` OpenClaw's `scripts/docker/setup.sh` writes), the project name, the
 * active profiles, and each service's mounts with every variable resolved. Where docker is present this is
 * `docker compose config --format json` on those files; elsewhere compose-interpolate.ts and compose's merge rules.
 */
import { stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { InterpolationBound, interpolate, parseDotenv, type Lookup } from "./compose-interpolate.ts";

export interface ComposeMount {
  type: "bind" | "volume";
  source: string;
  target: string;
}

export interface ComposeService {
  image?: string;
  command?: unknown;
  entrypoint?: unknown;
  volumes: ComposeMount[];
}

export interface ResolvedCompose {
  dir: string;
  /** Absolute paths of the files compose reads, in order: pass each with -f. */
  files: string[];
  project: string;
  services: Record<string, ComposeService>;
  /** Named volumes as the engine names them. */
  volumeNames: Record<string, string>;
  /** How it was resolved, for the person reading the detection. */
  via: string;
  /** Why a file was read the way it was (COMPOSE_FILE, an override, setup.sh's extra file). */
  notes: string[];
  errors: string[];
  /** Files the project names (COMPOSE_FILE) that are not there. */
  missingFiles?: string[];
}

const BASE_FILES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
const OVERRIDES: Record<string, string[]> = {
  "compose.yaml": ["compose.override.yaml", "compose.override.yml"],
  "compose.yml": ["compose.override.yml", "compose.override.yaml"],
  "docker-compose.yml": ["docker-compose.override.yml", "docker-compose.override.yaml"],
  "docker-compose.yaml": ["docker-compose.override.yaml", "docker-compose.override.yml"],
};
/** Written by OpenClaw's scripts/docker/setup.sh (home volume, OPENCLAW_EXTRA_MOUNTS), used as a second -f. */
const SETUP_EXTRA = "docker-compose.extra.yml";

const exists = async (path: string) => Boolean(await stat(path).catch(() => undefined));

/** The `.env` compose reads for interpolation, with `HOME` of the user who runs compose (compose takes it from the shell). */
export async function projectEnv(root: string, dir: string, home: string): Promise<Lookup> {
  const shell: Lookup = (name) => (name === "HOME" ? home : undefined);
  const text = (readTextIfRegular(join(root, dir, ".env")) ?? "");
  const vars = parseDotenv(text, shell);
  return (name) => vars.get(name) ?? shell(name);
}

/** The files compose reads for a project dir (paths without `root`). Undefined: not a compose project. */
export async function composeFiles(root: string, dir: string, env: Lookup): Promise<{ files: string[]; notes: string[]; missing: string[] } | undefined> {
  const notes: string[] = [];
  const listed = env("COMPOSE_FILE");
  let files: string[];
  if (listed) {
    files = listed.split(env("COMPOSE_PATH_SEPARATOR") || ":").filter(Boolean).map((f) => resolve(dir, f));
    notes.push(`COMPOSE_FILE=${listed} in ${join(dir, ".env")}`);
  } else {
    let base: string | undefined;
    for (const name of BASE_FILES) if (!base && (await exists(join(root, dir, name)))) base = name;
    if (!base) return undefined;
    files = [join(dir, base)];
    for (const name of OVERRIDES[base]!) {
      if (await exists(join(root, dir, name))) {
        files.push(join(dir, name));
        notes.push(`${name} read as compose's override file`);
        break;
      }
    }
  }
  const extra = join(dirname(files[0]!), SETUP_EXTRA);
  if (!files.includes(extra) && (await exists(join(root, extra)))) {
    files.push(extra);
    notes.push(`${SETUP_EXTRA} added: OpenClaw's scripts/docker/setup.sh runs compose with it`);
  }
  const missing: string[] = [];
  for (const file of files) if (!(await exists(join(root, file)))) missing.push(file);
  if (missing.length === files.length) return undefined;
  return { files, notes, missing };
}

/** Pure: compose's default project name: COMPOSE_PROJECT_NAME, else the top-level `name`, else the dir's base name. */
export function projectName(dir: string, env: Lookup, declared?: string): string {
  const name = env("COMPOSE_PROJECT_NAME") || declared || basename(dir);
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, "");
}

/** Resolve a project: `docker compose config` where `run` can reach docker (and `root` is `/`), else by the spec. */
export async function resolveCompose(root: string, dir: string, options: { home: string; run?: ProcessRunner }): Promise<ResolvedCompose | undefined> {
  let env: Lookup;
  try {
    env = await projectEnv(root, dir, options.home);
  } catch (error) {
    if (!(error instanceof InterpolationBound)) throw error;
    // A user's .env built to exhaust root: refused with the reason, the project shown as one compose cannot read.
    return { dir, files: [join(dir, ".env")], project: basename(dir), services: {}, volumeNames: {}, via: "compose interpolation (no docker here)", notes: [], errors: [error.message] };
  }
  const found = await composeFiles(root, dir, env);
  if (!found) return undefined;
  if (found.missing.length) {
    // Compose itself refuses such a project: read what is there, and say what is not.
    const present = found.files.filter((f) => !found.missing.includes(f));
    const partial = await byInterpolation(root, dir, present, env, found.notes);
    return partial && { ...partial, files: found.files, missingFiles: found.missing, errors: [...found.missing.map((f) => `compose file ${f} does not exist`), ...partial.errors] };
  }
  if (root === "/" && options.run) {
    const viaDocker = await byDocker(dir, found.files, options.home, options.run);
    if (viaDocker) return { ...viaDocker, notes: found.notes };
  }
  return byInterpolation(root, dir, found.files, env, found.notes);
}

interface ConfigJson {
  name?: string;
  services?: Record<string, { image?: string; command?: unknown; entrypoint?: unknown; volumes?: Array<{ type?: string; source?: string; target?: string }> }>;
  volumes?: Record<string, { name?: string } | null>;
}

async function byDocker(dir: string, files: string[], home: string, run: ProcessRunner): Promise<ResolvedCompose | undefined> {
  const argv = ["docker", "compose", "--project-directory", dir, ...files.flatMap((f) => ["-f", f]), "config", "--format", "json"];
  // HOME as the user who runs compose has it (interpolation); docker's own config (and CLI plugins) stays ours.
  const dockerConfig = process.env.DOCKER_CONFIG ?? join(process.env.HOME ?? "/root", ".docker");
  // compose reads the project's files and follows their env_file/include/extends: as the project's owner, never as
  // root in a directory a user can write (a root-only file could be echoed in compose's error). `config` needs no
  // engine; where that user's docker has no compose plugin, the specification's interpolation below takes over.
  const as = ownerRun(dir, minimalEnv({ HOME: home, DOCKER_CONFIG: dockerConfig }));
  if (!as.ok) return undefined;
  const result = await run(argv, { ...as.options, cwd: dir, timeoutMs: 30_000 });
  if (result.spawnError) return undefined;
  if (result.code !== 0) {
    // `docker` without the compose plugin: fall back; a file compose itself rejects: say so.
    if (/is not a docker command|unknown command|unknown flag/i.test(result.stderr)) return undefined;
    return { dir, files, project: basename(dir), services: {}, volumeNames: {}, via: "docker compose config", notes: [], errors: [outputTail(result.stderr, 1) || `exit ${result.code}`] };
  }
  let doc: ConfigJson;
  try {
    doc = JSON.parse(result.stdout) as ConfigJson;
  } catch {
    return undefined;
  }
  const services: Record<string, ComposeService> = {};
  for (const [name, s] of Object.entries(doc.services ?? {})) {
    const volumes = (s.volumes ?? []).flatMap((v): ComposeMount[] => (v.source && v.target && (v.type === "bind" || v.type === "volume") ? [{ type: v.type, source: v.source, target: v.target }] : []));
    services[name] = { image: s.image, command: s.command, entrypoint: s.entrypoint, volumes };
  }
  const volumeNames = Object.fromEntries(Object.entries(doc.volumes ?? {}).map(([key, v]) => [key, v?.name ?? `${doc.name}_${key}`]));
  return { dir, files, project: doc.name ?? basename(dir), services, volumeNames, via: "docker compose config", notes: [], errors: [] };
}

type RawService = { image?: string; command?: unknown; entrypoint?: unknown; volumes?: unknown[]; profiles?: string[] };
type RawDoc = { name?: string; services?: Record<string, RawService | null>; volumes?: Record<string, { name?: string; external?: boolean } | null> };

/** Pure over the parsed files: interpolate each, merge in order (mounts by target), drop inactive profiles. */
async function byInterpolation(root: string, dir: string, files: string[], env: Lookup, notes: string[]): Promise<ResolvedCompose | undefined> {
  const errors: string[] = [];
  const services: Record<string, RawService & { mounts: Map<string, ComposeMount> }> = {};
  const volumes: Record<string, { name?: string; external?: boolean }> = {};
  let declaredName: string | undefined;
  for (const file of files) {
    let doc: RawDoc;
    try {
      doc = deepInterpolate(Bun.YAML.parse(readTextOrThrow(join(root, file))), env, errors) as RawDoc;
    } catch (error) {
      errors.push(`${file}: ${(error as Error).message}`);
      continue;
    }
    if (!doc || typeof doc !== "object") continue;
    declaredName = doc.name ?? declaredName;
    for (const [key, v] of Object.entries(doc.volumes ?? {})) volumes[key] = { ...volumes[key], ...v };
    for (const [name, raw] of Object.entries(doc.services ?? {})) {
      const s = raw ?? {};
      const merged = (services[name] ??= { mounts: new Map() });
      for (const key of ["image", "command", "entrypoint", "profiles"] as const) if (s[key] !== undefined) (merged as Record<string, unknown>)[key] = s[key];
      for (const volume of s.volumes ?? []) {
        const mount = parseMount(volume, dir, env("HOME") ?? "/root");
        if (mount) merged.mounts.set(mount.target, mount);
      }
    }
  }
  const active = (env("COMPOSE_PROFILES") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  const project = projectName(dir, env, declaredName);
  const explicit = env("COMPOSE_PROJECT_NAME") || declaredName;
  if (explicit && !/^[a-z0-9][a-z0-9_-]*$/.test(explicit)) errors.push(`invalid project name "${explicit}": compose wants lowercase letters, digits, hyphens and underscores`);
  const result: Record<string, ComposeService> = {};
  for (const [name, s] of Object.entries(services)) {
    if (s.profiles?.length && !s.profiles.some((p) => active.includes(p) || active.includes("*"))) continue;
    result[name] = { image: s.image, command: s.command, entrypoint: s.entrypoint, volumes: [...s.mounts.values()] };
  }
  const volumeNames = Object.fromEntries(Object.entries(volumes).map(([key, v]) => [key, v.name ?? (v.external ? key : `${project}_${key}`)]));
  return { dir, files, project, services: result, volumeNames, via: "compose interpolation (no docker here)", notes, errors };
}

/** More nodes than any real compose file has: YAML aliases can make a small file a tree of billions ("alias bomb"). */
const MAX_NODES = 200_000;

function deepInterpolate(value: unknown, env: Lookup, errors: string[], budget = { left: MAX_NODES }): unknown {
  if (--budget.left < 0) throw new Error(`more than ${MAX_NODES} values once its aliases are expanded: not read (an alias bomb?)`);
  if (typeof value === "string") {
    const out = interpolate(value, env);
    errors.push(...out.errors);
    return out.value;
  }
  if (Array.isArray(value)) return value.map((v) => deepInterpolate(v, env, errors, budget));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepInterpolate(v, env, errors, budget)]));
  return value;
}

/** Pure: a service's `volumes:` entry (short or long syntax) as compose resolves it. */
export function parseMount(volume: unknown, dir: string, home: string): ComposeMount | undefined {
  let source: string | undefined;
  let target: string | undefined;
  let type: string | undefined;
  if (typeof volume === "string") {
    const parts = volume.split(":");
    if (parts.length < 2) return undefined; // an anonymous volume
    [source, target] = parts;
  } else if (volume && typeof volume === "object") {
    ({ source, target, type } = volume as { source?: string; target?: string; type?: string });
  }
  if (!source || !target) return undefined;
  const isPath = type === "bind" || (type === undefined && /^[./~]/.test(source));
  if (!isPath) return { type: "volume", source, target: target.replace(/\/+$/, "") || "/" };
  const expanded = source.replace(/^~(?=\/|$)/, home);
  return { type: "bind", source: isAbsolute(expanded) ? resolve(expanded) : resolve(dir, expanded), target: target.replace(/\/+$/, "") || "/" };
}
