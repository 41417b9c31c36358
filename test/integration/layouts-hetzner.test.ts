/**
 * OpenClaw's Hetzner guide (upstream docs/install/hetzner.md), verbatim, in a booted systemd with Docker and Compose:
 * as root, the repository in /root/openclaw with the guide's docker-compose.yml and .env (test/fixtures/
 * openclaw-upstream/hetzner, origin in its README), `mkdir -p /root/.openclaw/workspace`, `chown -R 1000:1000
 * /root/.openclaw`, Debian's /root left at 0700, `docker compose up -d openclaw-gateway`. The container (uid 1000) lays
 * down OpenClaw's state; then `oauth-sync install --yes`, a real sync, a rotation, and the container still reads it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelsStatus } from "../bed/openclaw.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { requireBinary } from "../support/binary.ts";
import { IMAGE_CHANGES, SEED_RELEASE, boxSh, claudeLogin, eventually, rotateLogin, standInImageTar, waitForText } from "../support/layouts.ts";

const GUIDE = join(import.meta.dir, "../fixtures/openclaw-upstream/hetzner");
const PROFILES = "/root/.openclaw/agents/main/agent/auth-profiles.json";
let box: SystemdContainer;
const sh = (script: string) => boxSh(box, script);
const compose = (args: string) => sh(`cd /root/openclaw && docker compose ${args}`);

beforeAll(async () => {
  box = await bootSystemd("oauth-sync-hetzner", { flavour: "containers" });
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  // The image the guide builds (`docker compose build`): a stand-in with the same user, workdir and command.
  const tar = await standInImageTar(box);
  await sh(`docker import ${IMAGE_CHANGES.map((c) => `'${c}'`).join(" ")} ${tar} openclaw:latest >/dev/null`);
  // 3) the repository, 5) .env and 6) docker-compose.yml, as the guide gives them.
  await box.copyIn(join(GUIDE, "docker-compose.yml"), "/root/openclaw/docker-compose.yml");
  await box.copyIn(join(GUIDE, ".env"), "/root/openclaw/.env");
  // 4) persistent host directories, owned by the container's user.
  await sh("mkdir -p /root/.openclaw/workspace && chown -R 1000:1000 /root/.openclaw");
  // 8) launch; the gateway lays down its state as uid 1000.
  await compose("up -d openclaw-gateway");
  await eventually(() => sh(`test -s ${PROFILES}`));
}, 600_000);

afterAll(async () => box?.stop(), 120_000);

describe("OpenClaw's Hetzner guide, verbatim, in a booted systemd", () => {
  test("the layout is the guide's: /root 0700, the state uid 1000's, the gateway running", async () => {
    expect(await sh("stat -c '%a %U' /root")).toBe("700 root");
    expect(await sh(`stat -c '%u:%g %a' /root/.openclaw ${PROFILES}`)).toBe("1000:1000 755\n1000:1000 600");
    expect(await compose("ps --format '{{.Service}} {{.State}}'")).toBe("openclaw-gateway running");
  }, 60_000);

  let login: { token: string; path: string };
  test("install --yes: the compose project and its state found, the service installed and healthy after a real sync", async () => {
    login = await claudeLogin(box, "root", "/root");
    const result = await box.exec(["/root/oauth-sync", "install", "--yes"], { timeoutMs: 180_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const config = JSON.parse(await readFile(join(box.root, "etc/oauth-sync/config.json"), "utf8"));
    expect(config.targets).toEqual([{ kind: "openclaw-auth-profiles", path: PROFILES, reload: false }]);
    expect(config.gateway).toMatchObject({ kind: "compose", projectDir: "/root/openclaw", service: "openclaw-gateway" });
    expect(result.stdout + result.stderr).not.toContain("sk-ant-");
    expect(result.stdout + result.stderr).not.toMatch(/chown \S+ \/root\b/);

    await waitForText(box, PROFILES, login.token);
    // Written as the container's user: it keeps the file, and the gateway (uid 1000) reads it.
    expect(await sh(`stat -c '%u:%g %a' ${PROFILES}`)).toBe("1000:1000 600");
    expect(await compose("exec -T openclaw-gateway cat /home/node/.openclaw/agents/main/agent/auth-profiles.json")).toContain(login.token);
    const status = await box.exec(["oauth-sync", "status"]);
    expect(status.code, status.stdout + status.stderr).toBe(0);
  }, 240_000);

  test("a rotation reaches the file; OpenClaw itself reads the new token; /root is still 0700", async () => {
    const token = await rotateLogin(box, "root", login.path);
    await waitForText(box, PROFILES, token);
    expect(await sh(`stat -c '%u:%g %a' ${PROFILES}`)).toBe("1000:1000 600");
    expect(await compose("exec -T openclaw-gateway cat /home/node/.openclaw/agents/main/agent/auth-profiles.json")).toContain(token);

    // The real OpenClaw of the state's release, on a copy of the state: the profile it uses holds the new token.
    const home = await mkdtemp(join(tmpdir(), "oauth-sync-hetzner-"));
    try {
      await cp(join(box.root, "root/.openclaw"), join(home, ".openclaw"), { recursive: true });
      const auth = (await modelsStatus(SEED_RELEASE, home)).auth;
      const anthropic = auth.providers.find((p: { provider: string }) => p.provider === "anthropic");
      expect(anthropic.effective.kind).toBe("profiles");
      expect(JSON.stringify(anthropic.profiles)).toContain(token.slice(-8));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
    expect(await sh("stat -c %a /root")).toBe("700");
  }, 120_000);
});
