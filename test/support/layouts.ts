/**
 * What the layout tests (test/integration/layouts-*.test.ts) put in a containers-flavour booted systemd: OpenClaw
 * state made by the real OpenClaw (2026.5.28, `openclaw onboard --non-interactive`, cached once), and a stand-in
 * OpenClaw image whose `node` lays that state down as the container's own user on its first start (as the real
 * gateway does), logs each start, and waits. The image has no Node: what these tests prove is who owns what the
 * container writes, whether the container can still read what oauth-sync writes back, and the reloads.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { cp, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { prepareHome, runOpenClaw, testbedCache } from "../bed/openclaw.ts";
import type { SystemdContainer } from "../bed/systemd.ts";
import { waitUntil } from "./wait.ts";

export const SEED_RELEASE = "2026.5.28";
export const HOUR = 3_600_000;

/** `~/.openclaw` as `openclaw onboard` of SEED_RELEASE leaves it (one agent, a token profile), made once and cached. */
export async function openclawSeed(): Promise<string> {
  const dir = join(testbedCache(), `layout-seed-${SEED_RELEASE}`);
  if (existsSync(join(dir, ".openclaw/openclaw.json"))) return dir;
  const tmp = `${dir}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await prepareHome(SEED_RELEASE, tmp);
  const args = ["onboard", "--non-interactive", "--accept-risk", "--auth-choice", "token", "--token-provider", "anthropic", "--token", fakeToken(), "--token-expires-in", "8h"];
  const skip = ["--skip-daemon", "--skip-health", "--skip-channels", "--skip-skills", "--skip-search", "--skip-ui", "--skip-hooks"];
  const made = await runOpenClaw(SEED_RELEASE, tmp, [...args, ...skip]);
  if (made.code !== 0 || !existsSync(join(tmp, ".openclaw/agents/main/agent/auth-profiles.json"))) {
    throw new Error(`openclaw ${SEED_RELEASE} onboard failed (${made.code}):\n${made.stderr.slice(-2000)}`);
  }
  rmSync(join(tmp, ".openclaw/plugin-runtime-deps"), { force: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** The stand-in for `node dist/index.js gateway …` (upstream's command line, unchanged in the compose files and Quadlet). */
const STAND_IN_NODE = `#!/bin/sh
# Stand-in OpenClaw gateway: on a first start it lays down the state OpenClaw ${SEED_RELEASE} made, as the container's
# own user (so the files get whatever owner that user has on the host), then logs the start and waits. It stops on
# SIGTERM like the real gateway (as a container's PID 1 it would otherwise ignore it until the engine's kill timeout).
state="\${HOME:-/home/node}/.openclaw"
[ -e "$state/agents/main/agent/auth-profiles.json" ] || cp -R /seed/.openclaw/. "$state/" || exit 1
mkdir -p "$state/logs" && echo "start $(date +%s) $(id -u):$(id -g)" >>"$state/logs/stand-in-gateway.log" || exit 1
trap 'exit 0' TERM INT
sleep 2147483647 &
wait
`;

/** Builds the stand-in image's file tree inside the box and packs it at /var/tmp/openclaw-image.tar (mode 0644). */
export async function standInImageTar(box: SystemdContainer): Promise<string> {
  const tree = join(box.root, "var/tmp/openclaw-image");
  await cp(join(await openclawSeed(), ".openclaw"), join(tree, "seed/.openclaw"), { recursive: true });
  mkdirSync(join(tree, "usr/local/bin"), { recursive: true });
  await writeFile(join(tree, "usr/local/bin/node"), STAND_IN_NODE, { mode: 0o755 });
  const script = [
    "set -e; cd /var/tmp/openclaw-image",
    "mkdir -p bin app etc home/node tmp && chmod 1777 tmp && cp /bin/busybox bin/",
    // The accounts of upstream's image (node:22-bookworm): root, and node = 1000.
    `printf 'root:x:0:0:root:/root:/bin/sh\\nnode:x:1000:1000::/home/node:/bin/sh\\n' >etc/passwd`,
    `printf 'root:x:0:\\nnode:x:1000:\\n' >etc/group`,
    "for a in sh cp mkdir date id echo cat sleep ls find chown stat; do ln -sf busybox bin/$a; done",
    // The seed keeps OpenClaw's own modes (0700 dirs, 0600 files) and belongs to the image's user, as it would after
    // a real first start; everything else is root's and readable.
    "chmod -R a+rX bin usr app etc home && chmod 755 . seed && chown -R 1000:1000 seed/.openclaw",
    "tar -C /var/tmp/openclaw-image -cf /var/tmp/openclaw-image.tar . && chmod 644 /var/tmp/openclaw-image.tar",
  ].join("\n");
  const built = await box.exec(["sh", "-c", script]);
  if (built.code !== 0) throw new Error(`stand-in image: ${built.stdout}${built.stderr}`);
  return "/var/tmp/openclaw-image.tar";
}

/** `docker import` / `podman import` changes that make the tree an image like upstream's (user node = 1000, /app). */
export const IMAGE_CHANGES = ["ENV PATH=/usr/local/bin:/bin", "ENV HOME=/home/node", "WORKDIR /app", "USER 1000:1000"].flatMap((c) => ["--change", c]);

/** A Claude Code login (credentials file of `user`, as the CLI leaves it: 0600, the user's). */
export async function claudeLogin(box: SystemdContainer, user: string, home: string, expiresAt = Date.now() + 8 * HOUR) {
  const token = fakeToken();
  const path = join(home, ".claude/.credentials.json");
  mkdirSync(join(box.root, home, ".claude"), { recursive: true });
  await writeFile(join(box.root, `${path}.tmp`), credentialsJson(token, expiresAt), { mode: 0o600 });
  const owned = await box.exec(["sh", "-c", `chown -R ${user}: ${home}/.claude && chmod 700 ${home}/.claude && mv ${path}.tmp ${path}`]);
  if (owned.code !== 0) throw new Error(owned.stderr);
  return { token, path };
}

/** A rotation as Claude Code makes it: a new file of the login's owner (0600), renamed over the old one. */
export async function rotateLogin(box: SystemdContainer, user: string, path: string, expiresAt = Date.now() + 9 * HOUR): Promise<string> {
  const token = fakeToken();
  await writeFile(join(box.root, `${path}.tmp`), credentialsJson(token, expiresAt), { mode: 0o600 });
  await boxSh(box, `chown ${user}: ${path}.tmp`);
  await rename(join(box.root, `${path}.tmp`), join(box.root, path));
  return token;
}

/** Shell in the box; throws with the output on a non-zero exit. */
export async function boxSh(box: SystemdContainer, script: string, env: Record<string, string> = {}): Promise<string> {
  const result = await box.exec(["sh", "-c", script], { env, timeoutMs: 180_000 });
  if (result.code !== 0) throw new Error(`${script}: exit ${result.code}\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

/** Until `path` (inside the box) holds `text`; the service's journal in the error otherwise. */
export async function waitForText(box: SystemdContainer, path: string, text: string, timeoutMs = 20_000): Promise<void> {
  const holds = async () => (await readFile(join(box.root, path), "utf8").catch(() => "")).includes(text);
  const journal = async () => `oauth-sync's journal:\n${(await box.exec(["sh", "-c", "journalctl -u oauth-sync --no-pager -o cat | tail -20"])).stdout}`;
  await waitUntil(`the expected text in ${path}`, holds, { timeoutMs, intervalMs: 100, detail: journal });
}

/** Until `check` passes (it throws meanwhile); its last error otherwise. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  let last: unknown;
  const passed = async () => {
    try {
      return { value: await check() };
    } catch (error) {
      last = error;
      return undefined;
    }
  };
  const result = await waitUntil("a check to pass", passed, { timeoutMs, intervalMs: 200, onTimeout: "continue" });
  if (!result) throw last;
  return result.value;
}
