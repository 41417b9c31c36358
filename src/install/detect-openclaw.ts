import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
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

/** A compose project whose services run OpenClaw: the gateway service, its state dir and the image's release. */
export async function composeInstall(root: string, dir: string): Promise<Found<OpenClawInstall> | undefined> {
  for (const name of COMPOSE_FILES) {
    const file = join(dir, name);
    const text = await readFile(join(root, file), "utf8").catch(() => undefined);
    if (text === undefined || !/openclaw/i.test(text)) continue;
    let doc: { services?: Record<string, { image?: string; command?: unknown; volumes?: unknown[] }> };
    try {
      doc = Bun.YAML.parse(text) as typeof doc;
    } catch {
      continue;
    }
    const env = await readFile(join(root, dir, ".env"), "utf8").catch(() => "");
    const services = Object.entries(doc.services ?? {}).filter(([, s]) => /openclaw/i.test(`${s.image ?? ""} ${JSON.stringify(s.command ?? "")}`));
    const gateway = services.find(([name]) => /gateway/.test(name)) ?? services[0];
    if (!gateway) continue;
    const [service, spec] = gateway;
    const stateDir = mountedStateDir(spec.volumes ?? [], env, dir);
    if (!stateDir) continue;
    const imageRelease = /openclaw[^:\s]*:(\d{4}\.\d+\.\d+)/.exec(interpolate(spec.image ?? "", env))?.[1];
    const release = imageRelease ?? (await packageRelease(root, stateDir));
    return {
      value: { kind: "compose", stateDir, projectDir: dir, composeFile: file, service, image: interpolate(spec.image ?? "", env) || undefined, release, ...(await stateFacts(root, stateDir)) },
      source: `${file}: service ${service}, state ${stateDir}${release ? `, release ${release} (${imageRelease ? "image tag" : "openclaw.json"})` : ""}`,
    };
  }
  return undefined;
}

/** The host side of the volume mounted at /home/node/.openclaw, with ${VAR} from the project's .env. */
function mountedStateDir(volumes: unknown[], env: string, dir: string): string | undefined {
  for (const volume of volumes) {
    const spec = typeof volume === "string" ? volume : `${(volume as { source?: string }).source}:${(volume as { target?: string }).target}`;
    const [host, target] = interpolate(spec, env).split(":");
    if (host && target === CONTAINER_STATE_DIR) return resolve(dir, host);
  }
  return undefined;
}

function interpolate(text: string, env: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_, name: string, fallback?: string) => readEnvValue(env, name) || fallback || "");
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
  const text = await readFile(join(root, stateDir, "openclaw.json"), "utf8").catch(() => "");
  return /"lastTouchedVersion"\s*:\s*"(\d{4}\.\d+\.\d+)/.exec(text)?.[1];
}

/** Pure: releases from 2026.6 keep auth profiles in SQLite. */
export function isSqliteEra(release: string | undefined): boolean | undefined {
  const match = release ? /^(\d{4})\.(\d+)\./.exec(release) : null;
  if (!match) return undefined;
  const [year, month] = [Number(match[1]), Number(match[2])];
  return year > 2026 || (year === 2026 && month >= 6);
}
