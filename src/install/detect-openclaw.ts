import { readdir, stat } from "node:fs/promises";
import { readTextIfRegular } from "../fs/open-file.ts";
import { basename, join, resolve } from "node:path";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { readEnvValue } from "../targets/env-file.ts";

/** A finding and where it came from, so a person can judge it (and override it with a flag). */
export interface Found<T> {
  value: T;
  source: string;
}

export interface OpenClawInstall {
  kind: "compose" | "native";
  /** The OpenClaw state dir on the host (what the container mounts at /home/node/.openclaw). */
  stateDir: string;
  projectDir?: string;
  composeFile?: string;
  service?: string;
  /** The gateway's image, for its version label. */
  image?: string;
  release?: string;
  agents: string[];
  /** Auth is kept in SQLite (2026.6+), whatever the release says. */
  sqlite: boolean;
  /** auth-profiles.json / credentials/oauth.json present: harmless up to 2026.5, fatal to 2026.8+. */
  legacyJson: string[];
}

const COMPOSE_FILES = ["docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"];
const CONTAINER_STATE_DIR = "/home/node/.openclaw";

/** Directories where people keep compose projects and OpenClaw homes, under `root` (a seam for tests). */
export async function candidateDirs(root: string, extra: string[] = []): Promise<string[]> {
  const listed = async (dir: string) => (await readdir(join(root, dir)).catch(() => [] as string[])).map((name) => join(dir, name));
  const homes = ["/root", ...(await listed("/home"))];
  const dirs = [...(await listed("/opt")), ...(await listed("/srv")), ...homes, ...(await Promise.all(homes.map(listed))).flat(), ...extra];
  return [...new Set(dirs)];
}

export type ComposeDoc = {
  name?: string;
  services?: Record<string, { image?: string; command?: unknown; volumes?: unknown[] }>;
  volumes?: Record<string, { name?: string; external?: boolean } | null>;
};

/**
 * A compose project whose services run OpenClaw: the gateway service, its state dir and the image's release. A named
 * volume at /home/node/.openclaw is found on the host through `docker volume inspect` (`run`, where docker is).
 */
export async function composeInstall(root: string, dir: string, run?: ProcessRunner): Promise<Found<OpenClawInstall> | undefined> {
  for (const name of COMPOSE_FILES) {
    const file = join(dir, name);
    const text = readTextIfRegular(join(root, file));
    if (text === undefined || !/openclaw/i.test(text)) continue;
    let doc: ComposeDoc;
    try {
      doc = Bun.YAML.parse(text) as ComposeDoc;
    } catch {
      continue;
    }
    const env = (readTextIfRegular(join(root, dir, ".env")) ?? "");
    const services = Object.entries(doc.services ?? {}).filter(([, s]) => /openclaw/i.test(`${s.image ?? ""} ${JSON.stringify(s.command ?? "")}`));
    const gateway = services.find(([name]) => /gateway/.test(name)) ?? services[0];
    if (!gateway) continue;
    const [service, spec] = gateway;
    const mount = mountedState(spec.volumes ?? [], env, dir);
    if (!mount) continue;
    let stateDir = mount.path;
    let via = "";
    if (mount.volume) {
      const volume = volumeName(doc, mount.volume, env, dir);
      const mountpoint = run ? await volumeMountpoint(volume, run) : undefined;
      if (!mountpoint) continue;
      stateDir = mountpoint;
      via = ` (volume ${volume})`;
    }
    const imageRelease = /openclaw[^:\s]*:(\d{4}\.\d+\.\d+)/.exec(interpolate(spec.image ?? "", env))?.[1];
    const release = imageRelease ?? (await packageRelease(root, stateDir!));
    return {
      value: { kind: "compose", stateDir: stateDir!, projectDir: dir, composeFile: file, service, image: interpolate(spec.image ?? "", env) || undefined, release, ...(await stateFacts(root, stateDir!)) },
      source: `${file}: service ${service}, state ${stateDir}${via}${release ? `, release ${release} (${imageRelease ? "image tag" : "openclaw.json"})` : ""}`,
    };
  }
  return undefined;
}

/** Pure: what is mounted at /home/node/.openclaw — a host path (bind), or a named volume; ${VAR} from the .env. */
export function mountedState(volumes: unknown[], env: string, dir: string): { path?: string; volume?: string } | undefined {
  for (const volume of volumes) {
    let host: string | undefined;
    let target: string | undefined;
    let type: string | undefined;
    if (typeof volume === "string") [host, target] = interpolate(volume, env).split(":");
    else if (volume && typeof volume === "object") {
      const long = volume as { source?: string; target?: string; type?: string };
      [host, target, type] = [long.source && interpolate(long.source, env), long.target, long.type];
    }
    if (!host || target?.replace(/\/+$/, "") !== CONTAINER_STATE_DIR) continue;
    const isPath = type === "bind" || /^[./~]/.test(host);
    if (!isPath) return { volume: host };
    return { path: resolve(dir, host.replace(/^~(?=\/)/, process.env.HOME ?? "/root")) };
  }
  return undefined;
}

/** Pure: the engine's name for a project's named volume (`name:` wins; external ones keep their key; else PROJECT_KEY). */
export function volumeName(doc: ComposeDoc, key: string, env: string, dir: string): string {
  const declared = doc.volumes?.[key];
  if (declared?.name) return interpolate(declared.name, env);
  if (declared?.external) return key;
  const project = (doc.name ? interpolate(doc.name, env) : readEnvValue(env, "COMPOSE_PROJECT_NAME")) || basename(dir).toLowerCase().replace(/[^a-z0-9_-]/g, "");
  return `${project}_${key}`;
}

async function volumeMountpoint(volume: string, run: ProcessRunner): Promise<string | undefined> {
  const result = await run(["docker", "volume", "inspect", "--format", "{{.Mountpoint}}", volume], { env: minimalEnv(), timeoutMs: 15_000 });
  const path = result.code === 0 ? result.stdout.trim() : "";
  return path.startsWith("/") ? path : undefined;
}

function interpolate(text: string, env: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_, name: string, fallback?: string) => readEnvValue(env, name) || fallback || "");
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
  const docker = (...args: string[]) => run(["docker", ...args], { env: minimalEnv(), timeoutMs: 30_000 });
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

/** `openclaw-gateway.service` installed as a system unit or as a user's unit (`openclaw onboard --install-daemon`). */
export async function gatewayUnitFiles(root: string, homes: string[]): Promise<Found<{ user?: string; home?: string }>[]> {
  const found: Found<{ user?: string; home?: string }>[] = [];
  const exists = async (path: string) => Boolean(await stat(join(root, path)).catch(() => undefined));
  for (const dir of ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"]) {
    const path = join(dir, "openclaw-gateway.service");
    if (await exists(path)) {
      found.push({ value: {}, source: path });
      break;
    }
  }
  const passwd = (readTextIfRegular(join(root, "/etc/passwd")) ?? "");
  for (const home of homes) {
    const path = join(home, ".config/systemd/user/openclaw-gateway.service");
    if (!(await exists(path))) continue;
    const user = passwd.split("\n").map((l) => l.split(":")).find((f) => f[5] === home)?.[0] ?? (home === "/root" ? "root" : basename(home));
    found.push({ value: { user, home }, source: `${path} (user unit of ${user})` });
  }
  return found;
}

/** A native install: ~/.openclaw of root or a user. */
export async function nativeInstall(root: string, home: string): Promise<Found<OpenClawInstall> | undefined> {
  const stateDir = join(home, ".openclaw");
  if (!(await stat(join(root, stateDir)).catch(() => undefined))?.isDirectory()) return undefined;
  const release = await packageRelease(root, stateDir);
  return { value: { kind: "native", stateDir, release, ...(await stateFacts(root, stateDir)) }, source: `${stateDir} exists${release ? `, release ${release}` : ""}` };
}

async function stateFacts(root: string, stateDir: string) {
  const agents = (await readdir(join(root, stateDir, "agents")).catch(() => [] as string[])).sort();
  const markers = [join(stateDir, "state/openclaw.sqlite"), ...agents.map((id) => join(stateDir, "agents", id, "agent/openclaw-agent.sqlite"))];
  const exists = async (path: string) => Boolean(await stat(join(root, path)).catch(() => undefined));
  let sqlite = false;
  for (const marker of markers) if (await exists(marker)) sqlite = true;
  const legacy = [join(stateDir, "credentials/oauth.json"), ...agents.map((id) => join(stateDir, "agents", id, "agent/auth-profiles.json"))];
  const legacyJson: string[] = [];
  for (const path of legacy) if (await exists(path)) legacyJson.push(path);
  return { agents: agents.length ? agents : ["main"], sqlite, legacyJson };
}

/** The release OpenClaw last wrote into its config (`meta.lastTouchedVersion`), where it did. */
async function packageRelease(root: string, stateDir: string): Promise<string | undefined> {
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
