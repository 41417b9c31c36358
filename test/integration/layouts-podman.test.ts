/**
 * Rootless Podman for real (Debian 13's podman 5.4 with Quadlet) in a booted systemd: a user with an /etc/subuid
 * range and linger runs OpenClaw's Quadlet (upstream scripts/podman/openclaw.container.in, filled in as upstream's
 * scripts/podman/setup.sh does; origin in test/fixtures/openclaw-upstream/README.md) and the container lays down the
 * state. Once as upstream ships it (`UserNS=keep-id`: the files are the user's), once without keep-id, as people run it
 * after `podman unshare chown -R 1000:1000 ~/.openclaw` (the files belong to the user's subordinate uid 166535). Each:
 * `oauth-sync install --yes`, a real sync, a rotation that the container can still read, and the gateway's reload.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { boxHelpers } from "../support/box.ts";
import { requireBinary } from "../support/binary.ts";
import { IMAGE_CHANGES, boxSh, claudeLogin, eventually, rotateLogin, standInImageTar, waitForText } from "../support/layouts.ts";

const USER = "poduser";
const HOME = `/home/${USER}`;
const STATE = `${HOME}/.openclaw`;
const PROFILES = `${STATE}/agents/main/agent/auth-profiles.json`;
const QUADLET = `${HOME}/.config/containers/systemd/openclaw.container`;
let box: SystemdContainer;
let uid: string;
const sh = (script: string) => boxSh(box, script);
/** As the user, in their own session's environment (rootless podman finds its runtime dir through it). */
const asUser = (script: string) => sh(`cd / && runuser -u ${USER} -- env HOME=${HOME} XDG_RUNTIME_DIR=/run/user/${uid} sh -c '${script}'`);
const gatewayStarts = async () => (await readFile(join(box.root, STATE, "logs/stand-in-gateway.log"), "utf8").catch(() => "")).split("\n").filter(Boolean);

/** upstream's Quadlet, filled in as scripts/podman/setup.sh does (its defaults: ~/.openclaw, openclaw:local, openclaw). */
async function quadlet(keepId: boolean) {
  const template = await readFile(join(import.meta.dir, "../fixtures/openclaw-upstream/openclaw.container.59912ee4.in"), "utf8");
  const filled = template
    .replaceAll("{{OPENCLAW_HOME}}", HOME)
    .replaceAll("{{OPENCLAW_CONFIG_DIR}}", STATE)
    .replaceAll("{{OPENCLAW_WORKSPACE_DIR}}", `${STATE}/workspace`)
    .replaceAll("{{IMAGE_NAME}}", "openclaw:local")
    .replaceAll("{{CONTAINER_NAME}}", "openclaw");
  return keepId ? filled : filled.replace(/^UserNS=keep-id\n/m, "");
}

/** What setup.sh does before it starts the Quadlet: the state and workspace dirs (0700), `.env`, the unit. */
async function setUp(keepId: boolean) {
  await asUser(`install -d -m 700 ${STATE} ${STATE}/workspace && umask 077 && printf "OPENCLAW_GATEWAY_TOKEN=0123456789abcdef\\nOPENCLAW_PODMAN_CONTAINER=openclaw\\nOPENCLAW_PODMAN_IMAGE=openclaw:local\\n" >${STATE}/.env && mkdir -p ${HOME}/.config/containers/systemd`);
  await writeFile(join(box.root, QUADLET), await quadlet(keepId), { mode: 0o644 });
  await sh(`chown ${USER}: ${QUADLET}`);
  // Without keep-id the container's 1000 cannot write a dir its host user owns: the fix people use.
  if (!keepId) await asUser(`podman unshare chown -R 1000:1000 ${STATE}`);
  await sh(`systemctl --user --machine=${USER}@ daemon-reload && systemctl --user --machine=${USER}@ start openclaw.service`);
  await eventually(() => sh(`test -s ${PROFILES}`), 60_000);
}

async function tearDown() {
  await box.exec(["oauth-sync", "uninstall", "--purge"]);
  await sh(`systemctl --user --machine=${USER}@ stop openclaw.service`);
  await sh(`rm -rf ${STATE} ${QUADLET}`);
}

const readInContainer = () => asUser(`podman exec openclaw cat /home/node/.openclaw/agents/main/agent/auth-profiles.json`);

beforeAll(async () => {
  box = await bootSystemd("oauth-sync-podman", { flavour: "containers" });
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  await sh(`useradd -m ${USER} && printf "${USER}:165536:65536\\n" | tee /etc/subuid > /etc/subgid`);
  uid = String(await boxHelpers(() => box).lingeringUser(USER));
  const tar = await standInImageTar(box);
  await asUser(`podman import -q ${IMAGE_CHANGES.map((c) => `"${c}"`).join(" ")} ${tar} localhost/openclaw:local >/dev/null`);
}, 600_000);

afterAll(async () => box?.stop(), 120_000);

for (const keepId of [true, false]) {
  const owner = keepId ? "1000:1000" : "166535:166535"; // poduser is uid 1000; its range starts at 165536
  describe(`rootless Podman, upstream's Quadlet ${keepId ? "(UserNS=keep-id)" : "without keep-id"}`, () => {
    let login: { token: string; path: string };
    beforeAll(async () => {
      await setUp(keepId);
      login = await claudeLogin(box, USER, HOME);
    }, 180_000);
    afterAll(tearDown, 60_000);

    test(`the container laid the state down as ${owner} on the host`, async () => {
      expect(await sh(`stat -c '%u:%g %a' ${PROFILES}`)).toBe(`${owner} 600`);
      expect(await sh(`stat -c '%U %a' ${HOME}`)).toBe(`${USER} 700`);
    }, 30_000);

    test("install --yes: the Quadlet and its state found; a real sync written as the state's owner, readable in the container", async () => {
      const result = await box.exec(["/root/oauth-sync", "install", "--yes"], { timeoutMs: 180_000 });
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(0);
      expect(output).toContain("Podman Quadlet, container openclaw");
      expect(output).not.toMatch(/chown \S+ \/home\/poduser(\s|`|$)/);
      const config = JSON.parse(await readFile(join(box.root, "etc/oauth-sync/config.json"), "utf8"));
      expect(config.targets).toEqual([{ kind: "openclaw-auth-profiles", path: PROFILES, reload: false }]);
      expect(config.gateway).toEqual({ kind: "systemd", unit: "openclaw.service", user: USER });

      await waitForText(box, PROFILES, login.token);
      expect(await sh(`stat -c '%u:%g %a' ${PROFILES}`)).toBe(`${owner} 600`);
      expect(await readInContainer()).toContain(login.token);
    }, 240_000);

    test("a rotation reaches the file and the container; status is healthy", async () => {
      const token = await rotateLogin(box, USER, login.path);
      await waitForText(box, PROFILES, token);
      expect(await sh(`stat -c '%u:%g %a' ${PROFILES}`)).toBe(`${owner} 600`);
      expect(await readInContainer()).toContain(token);
      const status = await box.exec(["oauth-sync", "status"]);
      expect(status.code, status.stdout + status.stderr).toBe(0);
    }, 60_000);

    test("the gateway reload restarts the user's Quadlet unit, which reads the token again", async () => {
      const before = await gatewayStarts();
      const reload = await box.exec(["oauth-sync", "reload"]);
      expect(reload.code, reload.stdout + reload.stderr).toBe(0);
      expect(reload.stdout + reload.stderr).toContain(`restarted openclaw.service (user ${USER})`);
      await eventually(async () => expect((await gatewayStarts()).length).toBe(before.length + 1));
      expect(await sh(`systemctl --user --machine=${USER}@ is-active openclaw.service`)).toBe("active");
      expect(await readInContainer()).toContain(JSON.parse(await readFile(join(box.root, login.path), "utf8")).claudeAiOauth.accessToken);
    }, 120_000);
  });
}
