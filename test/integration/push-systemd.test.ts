/**
 * The source's hardened unit pushes: `oauth-sync install` in a booted systemd (test/bed/systemd.ts) with an ssh
 * target; the receiver is real sshd in the container's network namespace (its own loopback), running on the host's
 * files with `oauth-sync receive`. Proves ssh works inside the unit's sandbox (ProtectHome, PrivateDevices, the
 * system call filter, the capability bounding set).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { credentialsJson, fakeToken, waitForToken } from "../../src/demo/sandbox.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { boxHelpers } from "../support/box.ts";
import { requireBinary } from "../support/binary.ts";
import { createBed, type Bed } from "../support/ssh-bed.ts";
import { waitUntil } from "../support/wait.ts";
import { fingerprint } from "../../src/log/redact.ts";

const HOUR = 3_600_000;
const ENV_FILE = "/opt/openclaw/.env";
let box: SystemdContainer;
const { sh, writeInside, rotateInside } = boxHelpers(() => box);
let bed: Bed;

/**
 * The container's root has no OpenSSH (an offline minbase): the host's client with every library it links, the
 * loader included, in a directory of its own, started through that loader by /usr/local/bin/ssh. Works whatever
 * the host's release.
 */
async function copySshClient() {
  const dir = "/opt/host-openssh";
  const ldd = spawnSync("ldd", ["/usr/bin/ssh"], { encoding: "utf8" }).stdout;
  const libs = [...ldd.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]!);
  const loader = libs.find((l) => /ld-linux/.test(l));
  if (!loader) throw new Error(`no loader in ldd /usr/bin/ssh:\n${ldd}`);
  for (const path of ["/usr/bin/ssh", ...libs]) await box.copyIn(realpathSync(path), join(dir, basename(path)));
  await writeInside("/usr/local/bin/ssh", `#!/bin/sh\nexec ${dir}/${basename(loader)} --library-path ${dir} ${dir}/ssh "$@"\n`, 0o755);
}

beforeAll(async () => {
  box = await bootSystemd("oauth-sync-push");
  bed = await createBed({ netnsPid: box.pid, one: true });
  const r = bed.receivers[0]!;
  spawnSync("cp", [requireBinary(), join(bed.bin, "oauth-sync")]);
  await copySshClient();
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  // oauth-sync's key and the receiver's pinned host key, where install --push puts them.
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "oauth-sync@box", "-f", join(bed.root, "id_ed25519")]);
  await box.copyIn(join(bed.root, "id_ed25519"), "/etc/oauth-sync/ssh/id_ed25519");
  await sh("chmod 700 /etc/oauth-sync /etc/oauth-sync/ssh && chmod 600 /etc/oauth-sync/ssh/id_ed25519");
  const hostKey = readFileSync(`${r.hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  await writeInside("/etc/oauth-sync/ssh/known_hosts", `[${r.address}]:${r.port} ${hostKey}\n`);
  const publicKey = readFileSync(join(bed.root, "id_ed25519.pub"), "utf8").trim();
  await writeFile(r.authorizedKeys, `restrict,command="${join(bed.bin, "oauth-sync")} receive --config ${r.configPath}" ${publicKey}\n`, { mode: 0o644 });
  await writeFile(r.configPath, r.configText, { mode: 0o600 });
  await r.start();

  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
  await writeInside(ENV_FILE, "ANTHROPIC_OAUTH_TOKEN=\n");
  await writeInside(
    "/root/config.json",
    JSON.stringify({
      credentials: "/root/.claude/.credentials.json",
      trigger: { mode: "none" },
      targets: [
        { kind: "env-file", path: ENV_FILE },
        { kind: "ssh", host: r.address, port: r.port, user: "root", identityFile: "/etc/oauth-sync/ssh/id_ed25519", knownHostsFile: "/etc/oauth-sync/ssh/known_hosts" },
      ],
    }),
  );
}, 600_000);

afterAll(async () => {
  await box?.stop();
  await bed?.cleanup();
});

describe("the installed, hardened service pushes over ssh", () => {
  test("install, then a rotation reaches the local target and the receiver; status shows the host", async () => {
    const installed = await box.exec(["/root/oauth-sync", "install", "--config", "/root/config.json", "--yes", "--no-test"]);
    expect(installed.code).toBe(0);
    expect(await sh("systemctl is-active oauth-sync.service")).toBe("active");
    const r = bed.receivers[0]!;
    const token = fakeToken();
    await rotateInside(token, Date.now() + 9 * HOUR);
    const ms = await waitForToken([join(box.root, ENV_FILE), r.targets.env, r.targets.authProfiles], token, 20_000).catch(async (error) => {
      throw new Error(`${error.message}\n${await sh("journalctl -u oauth-sync --no-pager | tail -20")}\n${r.log()}`);
    });
    console.log(`local target and receiver written ${ms.toFixed(0)} ms after the rename (hardened unit, sshd in the container's netns)`);
    // The receiver writes its targets before it answers: the source's record (and its log line) follow the answer.
    const holds = new RegExp(`ssh:root@127\\.0\\.0\\.2:\\d+: holds token ${fingerprint(token)}`);
    await waitUntil("the source's record of the push", async () => holds.test(await sh("journalctl -u oauth-sync --no-pager")), { timeoutMs: 10_000, intervalMs: 100 });
    const journal = await sh("journalctl -u oauth-sync --no-pager");
    expect(journal).toMatch(holds);
    expect(journal).not.toContain(token);
    const status = await box.exec(["oauth-sync", "status", "--json"]);
    const host = JSON.parse(status.stdout).targets.find((t: { kind: string }) => t.kind === "ssh");
    expect(host).toMatchObject({ holdsCurrent: true, push: { failures: 0 } });
    // The sandbox the push ran in.
    const unit = await sh("systemctl show oauth-sync.service -p ProtectHome -p PrivateDevices -p NoNewPrivileges");
    expect(unit).toContain("PrivateDevices=yes");
    expect(unit).toContain("NoNewPrivileges=yes");
  }, 120_000);
});
