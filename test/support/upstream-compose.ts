/**
 * OpenClaw's own compose layouts, laid out in a directory: the upstream compose files in test/fixtures/openclaw-upstream
 * and the files `scripts/docker/setup.sh` (upstream commit 055c6a9711a83a3e4cb3074f2c49edd37d217eb5) writes beside them:
 * `.env` with the keys of its `upsert_env` call in that order, and, with a home volume or extra mounts,
 * `docker-compose.extra.yml` as its `write_extra_compose` prints it.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const FIXTURES = join(import.meta.dir, "../fixtures/openclaw-upstream");

export type UpstreamCompose = "021768e7" | "0068b7f2" | "nested";

/** An upstream compose file. `nested`: 0068b7f2 with the mount sources upstream now uses (see the fixtures' README). */
export async function upstreamCompose(which: UpstreamCompose): Promise<string> {
  if (which !== "nested") return readFile(join(FIXTURES, `docker-compose.${which}.yml`), "utf8");
  const base = await readFile(join(FIXTURES, "docker-compose.0068b7f2.yml"), "utf8");
  return base
    .replaceAll("- ${OPENCLAW_CONFIG_DIR}:/home/node/.openclaw\n", '- "${OPENCLAW_CONFIG_DIR:-${HOME:-/tmp}/.openclaw}:/home/node/.openclaw"\n')
    .replaceAll("- ${OPENCLAW_WORKSPACE_DIR}:/home/node/.openclaw/workspace\n", '- "${OPENCLAW_WORKSPACE_DIR:-${HOME:-/tmp}/.openclaw/workspace}:/home/node/.openclaw/workspace"\n');
}

export interface SetupValues {
  configDir: string;
  workspaceDir: string;
  image?: string;
  homeVolume?: string;
  extraMounts?: string[];
}

/** The `.env` setup.sh's `upsert_env` writes (fresh file: every key, in its order, `KEY=value`). */
export function setupEnv(v: SetupValues): string {
  const values: Array<[string, string]> = [
    ["OPENCLAW_CONFIG_DIR", v.configDir],
    ["OPENCLAW_WORKSPACE_DIR", v.workspaceDir],
    ["OPENCLAW_GATEWAY_PORT", "18789"],
    ["OPENCLAW_BRIDGE_PORT", "18790"],
    ["OPENCLAW_GATEWAY_BIND", "lan"],
    ["OPENCLAW_GATEWAY_TOKEN", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
    ["OPENCLAW_IMAGE", v.image ?? "openclaw:local"],
    ["OPENCLAW_EXTRA_MOUNTS", (v.extraMounts ?? []).join(",")],
    ["OPENCLAW_HOME_VOLUME", v.homeVolume ?? ""],
    ["OPENCLAW_DOCKER_APT_PACKAGES", ""],
    ["OPENCLAW_EXTENSIONS", ""],
    ["OPENCLAW_SANDBOX", ""],
    ["OPENCLAW_DOCKER_SOCKET", "/var/run/docker.sock"],
    ["DOCKER_GID", ""],
    ["OPENCLAW_INSTALL_DOCKER_CLI", ""],
    ["OPENCLAW_ALLOW_INSECURE_PRIVATE_WS", ""],
    ["OPENCLAW_TZ", ""],
  ];
  return values.map(([k, value]) => `${k}=${value}\n`).join("");
}

/** The `docker-compose.extra.yml` setup.sh's `write_extra_compose` writes; undefined where it writes none. */
export function setupExtraCompose(v: SetupValues): string | undefined {
  const mounts = v.extraMounts ?? [];
  if (!v.homeVolume && !mounts.length) return undefined;
  const own = v.homeVolume ? [`${v.homeVolume}:/home/node`, `${v.configDir}:/home/node/.openclaw`, `${v.workspaceDir}:/home/node/.openclaw/workspace`] : [];
  const list = [...own, ...mounts].map((m) => `      - ${m}\n`).join("");
  let text = `services:\n  openclaw-gateway:\n    volumes:\n${list}  openclaw-cli:\n    volumes:\n${list}`;
  if (v.homeVolume && !v.homeVolume.includes("/")) text += `volumes:\n  ${v.homeVolume}:\n`;
  return text;
}

/** Lay out a project as setup.sh leaves it: compose file, `.env`, and the extra file where setup.sh writes one. */
export async function upstreamProject(dir: string, which: UpstreamCompose, values: SetupValues | undefined): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "docker-compose.yml"), await upstreamCompose(which));
  if (!values) return;
  await writeFile(join(dir, ".env"), setupEnv(values));
  const extra = setupExtraCompose(values);
  if (extra) await writeFile(join(dir, "docker-compose.extra.yml"), extra);
}
