/**
 * findmnt --poll under the hardened unit (templates/oauth-sync.service: ProtectSystem, ProtectProc=invisible,
 * RestrictAddressFamilies, SystemCallFilter=@system-service, a private mount namespace): a directory bind-mounted over
 * the credentials directory on the host sends no inotify event, and must still reach the service's findmnt and be
 * watched again. The reconcile is 30 min away, so nothing else could land the token within the wait.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { boxHelpers } from "../support/box.ts";
import { requireBinary } from "../support/binary.ts";

const HOUR = 3_600_000;
const ENV_FILE = "/opt/openclaw/.env";
let box: SystemdContainer;
const { sh, writeInside, waitInside } = boxHelpers(() => box);

beforeAll(async () => {
  // Its own name: the install suites boot theirs at the same time.
  box = await bootSystemd("oauth-sync-unit-mounts");
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
  await writeInside(ENV_FILE, "ANTHROPIC_OAUTH_TOKEN=\n", 0o600);
  await writeInside(
    "/root/config.json",
    JSON.stringify({ credentials: "/root/.claude/.credentials.json", targets: [{ kind: "env-file", path: ENV_FILE }], trigger: { mode: "none" } }),
  );
  const install = await box.exec(["/root/oauth-sync", "install", "--config", "/root/config.json", "--yes"]);
  if (install.code !== 0) throw new Error(`install failed:\n${install.stdout}${install.stderr}`);
}, 600_000);

afterAll(async () => box?.stop());

describe("the hardened unit's watch and findmnt --poll", () => {
  test("findmnt runs in the service's cgroup; a directory mounted over the credentials directory is watched again", async () => {
    expect(await sh("systemctl is-active oauth-sync.service")).toBe("active");
    await waitInside(ENV_FILE, "sk-ant-oat01-"); // the first pass is done, the watch set up
    const inService = () => sh("for f in $(grep -l '/oauth-sync.service$' /proc/[0-9]*/cgroup); do cat ${f%/cgroup}/comm; done 2>/dev/null || true");
    expect((await inService()).split("\n")).toEqual(expect.arrayContaining(["oauth-sync", "findmnt"]));

    // A new login directory mounted over the old one, holding a token the old one never had.
    const mounted = fakeToken();
    await writeInside("/root/claude-volume/.credentials.json", credentialsJson(mounted, Date.now() + 9 * HOUR));
    await sh("chmod 700 /root/claude-volume && mount --bind /root/claude-volume /root/.claude");
    await waitInside(ENV_FILE, mounted, 20_000);

    // And the mounted directory is the one watched now: a rotation inside it (temp file + rename, written inside the
    // container's mount namespace, where the mount is) lands too.
    const next = fakeToken();
    const write = await box.exec(["sh", "-c", "cat > /root/.claude/.credentials.json.tmp && mv /root/.claude/.credentials.json.tmp /root/.claude/.credentials.json"], {
      stdin: credentialsJson(next, Date.now() + 10 * HOUR),
    });
    expect(write.code).toBe(0);
    await waitInside(ENV_FILE, next, 20_000);
    expect(await sh("journalctl -u oauth-sync --no-pager")).not.toContain("findmnt --poll ended");
    await sh("umount /root/.claude");
  }, 120_000);
});
