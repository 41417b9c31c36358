/**
 * Docker's userns-remap for real, in a booted systemd with its own engine (`"userns-remap": "default"`, /etc/subuid
 * `dockremap:231072:65536`): the container's uid 1000 is 232072 on the host.
 * - Under /root, OpenClaw's Hetzner guide (its compose file and .env) with the guide's chown shifted by the remap
 *   (`chown -R 232072:232072 /root/.openclaw`): root's, written as 232072.
 * - Under a user's home, as upstream's scripts/docker/setup.sh lays it out (its compose file and .env, ~/.openclaw made
 *   by the user; its "fix permissions" root container cannot chown under the remap, so the operator chowns the state
 *   to 232072 by hand): the user may command Docker (the docker group), so the state is theirs and written as 232072;
 *   once the user may not, the same layout is refused with a fix that moves the state and never re-owns the home.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { requireBinary } from "../support/binary.ts";
import { IMAGE_CHANGES, boxSh, claudeLogin, eventually, rotateLogin, standInImageTar, waitForText } from "../support/layouts.ts";
import { upstreamProject } from "../support/upstream-compose.ts";

const GUIDE = join(import.meta.dir, "../fixtures/openclaw-upstream/hetzner");
const IN_CONTAINER = "/home/node/.openclaw/agents/main/agent/auth-profiles.json";
let box: SystemdContainer;
const sh = (script: string) => boxSh(box, script);

beforeAll(async () => {
  box = await bootSystemd("oauth-sync-remap", { flavour: "containers" });
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  await sh(`printf 'dockremap:231072:65536\\n' | tee /etc/subuid >/etc/subgid && printf '{ "storage-driver": "vfs", "userns-remap": "default" }\\n' >/etc/docker/daemon.json && systemctl restart docker`);
  expect(await sh("docker info --format '{{.DockerRootDir}}'")).toBe("/var/lib/docker/231072.231072");
  const tar = await standInImageTar(box);
  const changes = IMAGE_CHANGES.map((c) => `'${c}'`).join(" ");
  await sh(`docker import ${changes} ${tar} openclaw:latest >/dev/null && docker tag openclaw:latest openclaw:local`);
}, 600_000);

afterAll(async () => box?.stop(), 120_000);

describe("userns-remap under /root (OpenClaw's Hetzner guide)", () => {
  const profiles = "/root/.openclaw/agents/main/agent/auth-profiles.json";
  const compose = (args: string) => sh(`cd /root/openclaw && docker compose ${args}`);
  let login: { token: string; path: string };

  beforeAll(async () => {
    await box.copyIn(join(GUIDE, "docker-compose.yml"), "/root/openclaw/docker-compose.yml");
    await box.copyIn(join(GUIDE, ".env"), "/root/openclaw/.env");
    await sh("mkdir -p /root/.openclaw/workspace && chown -R 232072:232072 /root/.openclaw");
    await compose("up -d openclaw-gateway");
    await eventually(() => sh(`test -s ${profiles}`));
    login = await claudeLogin(box, "root", "/root");
  }, 180_000);

  afterAll(async () => {
    await box.exec(["oauth-sync", "uninstall", "--purge"]);
    await compose("down");
    await sh("rm -rf /root/openclaw /root/.openclaw /root/.claude");
  }, 120_000);

  test("the container's 1000 is 232072 on the host; install --yes syncs as 232072; a rotation follows", async () => {
    expect(await sh(`stat -c '%u:%g %a' ${profiles}`)).toBe("232072:232072 600");
    expect(await sh("stat -c %a /root")).toBe("700");
    const result = await box.exec(["/root/oauth-sync", "install", "--yes"], { timeoutMs: 180_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(box.root, "etc/oauth-sync/config.json"), "utf8")).targets).toEqual([{ kind: "openclaw-auth-profiles", path: profiles, reload: false }]);
    await waitForText(box, profiles, login.token);
    expect(await sh(`stat -c '%u:%g %a' ${profiles}`)).toBe("232072:232072 600");
    expect(await compose(`exec -T openclaw-gateway cat ${IN_CONTAINER}`)).toContain(login.token);

    const token = await rotateLogin(box, "root", login.path);
    await waitForText(box, profiles, token);
    expect(await sh(`stat -c '%u:%g %a' ${profiles}`)).toBe("232072:232072 600");
    expect(await compose(`exec -T openclaw-gateway cat ${IN_CONTAINER}`)).toContain(token);
  }, 240_000);
});

describe("userns-remap under a user's home (upstream's scripts/docker/setup.sh)", () => {
  const home = "/home/alice";
  const project = `${home}/openclaw`;
  const profiles = `${home}/.openclaw/agents/main/agent/auth-profiles.json`;
  const asAlice = (script: string) => sh(`cd ${project} && runuser -u alice -- env HOME=${home} sh -c '${script}'`);
  let login: { token: string; path: string };

  beforeAll(async () => {
    await sh("useradd -m -G docker alice");
    await upstreamProject(join(box.root, project), "nested", { configDir: `${home}/.openclaw`, workspaceDir: `${home}/.openclaw/workspace` });
    await sh(`chown -R alice: ${project}`);
    // setup.sh: the directories as the user, then "Fixing data-directory permissions" with a root container. Under
    // the remap that container's root is 231072 on the host and cannot chown alice's files: the idiom fails, and
    // the operator chowns to the remapped uid as root instead.
    await asAlice(`mkdir -p ${home}/.openclaw/workspace ${home}/.openclaw/identity ${home}/.openclaw/agents/main/agent ${home}/.openclaw/agents/main/sessions`);
    const fix = await box.exec(["sh", "-c", `cd ${project} && runuser -u alice -- docker compose run --rm --no-deps --user root --entrypoint sh openclaw-gateway -c "find /home/node/.openclaw -xdev -exec chown node:node {} +"`]);
    expect(fix.stderr).toContain("chown: /home/node/.openclaw: Operation not permitted");
    await sh(`chown -R 232072:232072 ${home}/.openclaw`);
    await asAlice("docker compose up -d openclaw-gateway");
    await eventually(() => sh(`test -s ${profiles}`));
    login = await claudeLogin(box, "alice", home);
  }, 180_000);

  afterAll(async () => {
    await box.exec(["oauth-sync", "uninstall", "--purge"]);
    await sh(`cd ${project} && docker compose down`);
  }, 120_000);

  test("alice may command Docker: her home's remapped state is hers, written as 232072", async () => {
    expect(await sh(`stat -c '%u:%g %a' ${home}/.openclaw ${profiles}`)).toBe("232072:232072 755\n232072:232072 600");
    expect(await sh(`stat -c '%U %a' ${home}`)).toBe("alice 700");
    const result = await box.exec(["/root/oauth-sync", "install", "--yes"], { timeoutMs: 180_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    await waitForText(box, profiles, login.token);
    expect(await sh(`stat -c '%u:%g %a' ${profiles}`)).toBe("232072:232072 600");
    expect(await asAlice(`docker compose exec -T openclaw-gateway cat ${IN_CONTAINER}`)).toContain(login.token);
    const token = await rotateLogin(box, "alice", login.path);
    await waitForText(box, profiles, token);
  }, 240_000);

  test("once alice may not command Docker, the same layout is refused: move the state, never chown her home", async () => {
    const before = await readFile(join(box.root, profiles), "utf8");
    await sh("gpasswd -d alice docker >/dev/null");
    const sync = await box.exec(["oauth-sync", "sync"]);
    const output = sync.stdout + sync.stderr;
    expect(sync.code, output).not.toBe(0);
    expect(output).toContain(`${home} belongs to alice (uid 1000), but ${home}/.openclaw/agents/main/agent belongs to uid 232072 (dockremap's range in /etc/subuid: a container's user under Docker's userns-remap)`);
    expect(output).toContain(`fix: move ${home}/.openclaw out of ${home} to a directory only root can change`);
    expect(output).not.toMatch(/chown\s+(-R\s+)?\S+\s+\/home\/alice\/?(\s|`|$)/);
    expect(output).not.toContain("sk-ant-");
    expect(await readFile(join(box.root, profiles), "utf8")).toBe(before);
    expect(await sh(`stat -c '%U %a' ${home}`)).toBe("alice 700");
  }, 60_000);
});
