/**
 * An operator's life across releases, in a booted systemd: the previous release (built from this repository's own
 * history, test/support/previous-release.ts) installed and its config edited by hand, then this build installed over
 * it, then an older build of this code tried over that (a downgrade), then the clean-up and the way out.
 *
 * The stray target planted by hand is the form releases before the compose resolver (commit ce2aec7) wrote for
 * upstream's nested default `${OPENCLAW_CONFIG_DIR:-${HOME:-/tmp}/.openclaw}`: `/root/.openclaw}`. The previous
 * release's own service then writes the live token there, as it did on real hosts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { boxHelpers } from "../support/box.ts";
import { requireBinary } from "../support/binary.ts";
import { previousRelease, PREVIOUS_RELEASE } from "../support/previous-release.ts";

const HOUR = 3_600_000;
const CONFIG = "/etc/oauth-sync/config.json";
const MAIN = "/root/.openclaw/agents/main/agent/auth-profiles.json";
const STRAY_ROOT = "/root/.openclaw}";
const STRAY = `${STRAY_ROOT}/agents/main/agent/auth-profiles.json`;
const SECRET = "T0000/B0000/upgrade-secret-part";
const WEBHOOK = { url: `http://127.0.0.1:9/services/${SECRET}`, format: "slack" };
const OLDER_DATE = "2026-01-01T00:00:00Z";
let box: SystemdContainer;
let olderDir = "";
/** This checkout's version (package.json), as a pattern: the previous release (c36ef8c) was 0.1.0. */
const THIS = (JSON.parse(readFileSync(join(import.meta.dir, "../../package.json"), "utf8")) as { version: string }).version.replaceAll(".", "\\.");
const { sh, writeInside, rotateInside, waitInside } = boxHelpers(() => box);

const config = async () => JSON.parse(await readFile(join(box.root, CONFIG), "utf8"));
const mainPid = () => sh("systemctl show -p MainPID --value oauth-sync.service");
const manifest = async () => JSON.parse(await readFile(join(box.root, "var/lib/oauth-sync/install.json"), "utf8"));
const install = (binary: string, ...flags: string[]) => box.exec([binary, "install", "--yes", "--no-test", "--trigger", "none", ...flags]);

beforeAll(async () => {
  const previous = await previousRelease();
  // This code built as if from an older commit of the same version: what an operator's rollback would install.
  olderDir = await mkdtemp(join(tmpdir(), "oauth-sync-older-"));
  const older = join(olderDir, "oauth-sync");
  const build = Bun.spawnSync([process.execPath, "build.ts", "--outfile", older], {
    cwd: join(import.meta.dir, "../.."),
    env: { ...process.env, OAUTH_SYNC_COMMIT: "000000001111", OAUTH_SYNC_DATE: OLDER_DATE },
  });
  if (build.exitCode !== 0) throw new Error(build.stderr.toString());
  box = await bootSystemd("oauth-sync-upgrade");
  await box.copyIn(previous, "/root/previous/oauth-sync");
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  await box.copyIn(older, "/root/older/oauth-sync");
  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 8 * HOUR));
  await writeInside("/root/.openclaw/openclaw.json", JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } }));
  await mkdir(join(box.root, "root/.openclaw/agents/main/agent"), { recursive: true });
}, 900_000);

afterAll(async () => {
  await box?.stop();
  if (olderDir) await rm(olderDir, { recursive: true, force: true });
});

describe(`an upgrade from the previous release (${PREVIOUS_RELEASE}) over a hand-edited config`, () => {
  test("the previous release installs, and its config is edited by hand: webhooks, a timing, a target of an older release", async () => {
    const result = await install("/root/previous/oauth-sync");
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await sh("systemctl is-active oauth-sync.service")).toBe("active");
    const edited = await config();
    edited.notify = { webhooks: [WEBHOOK] };
    edited.watch = { reconcileSeconds: 600 };
    edited.targets.push({ kind: "openclaw-auth-profiles", path: STRAY });
    await writeInside(CONFIG, `${JSON.stringify(edited, null, 2)}\n`);
    // How that release applies an edit: install the config as it is (its units then let the service write there).
    const applied = await box.exec(["/root/previous/oauth-sync", "install", "--yes", "--no-test", "--config", CONFIG]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const token = fakeToken();
    await rotateInside(token, Date.now() + 9 * HOUR);
    await waitInside(MAIN, token);
    await waitInside(STRAY, token); // the previous release's own service writes the live token there
  }, 120_000);

  test("this build over it: 'upgrading', nothing the operator wrote is lost, the stray is offered, the service comes back", async () => {
    const before = await config();
    const pid = await mainPid();
    const result = await install("/root/oauth-sync");
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    expect(output).toMatch(new RegExp(`upgrading 0\\.1\\.0 \\(build not recorded\\) → ${THIS} \\([0-9a-f]{12}`));
    expect(output).toContain("= kept as you wrote them: notify (1 webhook(s)), watch (reconcileSeconds)");
    expect(output).toContain(`- target openclaw-auth-profiles ${STRAY}: no longer detected`);
    expect(output).toContain(`writes a token copy into ${STRAY_ROOT}, which holds nothing else`);
    expect(output).not.toContain(SECRET);
    const after = await config();
    expect(after.notify).toEqual(before.notify);
    expect(after.watch).toEqual({ reconcileSeconds: 600 });
    expect(after.targets).toEqual(before.targets); // --yes drops nothing the operator wrote
    expect(after.credentials).toBe(before.credentials);
    expect(await sh("systemctl is-active oauth-sync.service")).toBe("active");
    expect(await mainPid()).not.toBe(pid);
    const recorded = await manifest();
    expect(recorded.previous).toEqual({ version: "0.1.0" });
    expect(recorded.build.commit).toMatch(/^[0-9a-f]{12}/);
    const token = fakeToken();
    await rotateInside(token, Date.now() + 10 * HOUR);
    await waitInside(MAIN, token);
  }, 120_000);

  test("a downgrade attempt warns and changes nothing without --downgrade; with it the older build goes in, and back", async () => {
    const digest = await sh("sha256sum /usr/local/bin/oauth-sync");
    const refused = await install("/root/older/oauth-sync");
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stdout).toMatch(new RegExp(`DOWNGRADE ${THIS} \\([0-9a-f]{12}, 2026-\\d\\d-\\d\\d\\) → ${THIS} \\(000000001111, 2026-01-01\\)`));
    expect(refused.stderr).toContain("without --downgrade");
    expect(await sh("sha256sum /usr/local/bin/oauth-sync")).toBe(digest);
    const forced = await install("/root/older/oauth-sync", "--downgrade");
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect((await manifest()).build.commit).toBe("000000001111");
    const back = await install("/root/oauth-sync");
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toMatch(new RegExp(`upgrading ${THIS} \\(000000001111, 2026-01-01\\) → ${THIS}`));
    expect(await sh("sha256sum /usr/local/bin/oauth-sync")).toBe(digest);
    expect((await config()).notify).toEqual({ webhooks: [WEBHOOK] });
  }, 120_000);

  test("--prune drops the stale target and removes the token copy only oauth-sync wrote; the rest stays", async () => {
    const result = await install("/root/oauth-sync", "--prune");
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`removed ${STRAY_ROOT}`);
    expect(result.stdout).toContain("kept the config that was there as /etc/oauth-sync/config.json.");
    expect((await box.exec(["test", "-e", STRAY_ROOT])).code).not.toBe(0);
    const after = await config();
    expect(after.targets.map((t: { path: string }) => t.path)).toEqual([MAIN]);
    expect(after.notify).toEqual({ webhooks: [WEBHOOK] });
    expect(after.watch).toEqual({ reconcileSeconds: 600 });
  }, 120_000);

  test("a config with null (read as 'the default' by earlier releases) is migrated with a line naming the key", async () => {
    const edited = await config();
    edited.refresh = null;
    edited.watch.retrySeconds = null;
    await writeInside(CONFIG, `${JSON.stringify(edited, null, 2)}\n`);
    const check = await box.exec(["oauth-sync", "config", "check", "--config", CONFIG]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('refresh: null removed (earlier releases read null as "the default"');
    const result = await install("/root/oauth-sync");
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain("watch.retrySeconds: null removed");
    const text = await readFile(join(box.root, CONFIG), "utf8");
    expect(text).not.toContain("null");
    expect(JSON.parse(text).watch).toEqual({ reconcileSeconds: 600 });
  }, 120_000);

  test("a flag given now wins over what the file says, and the file it changes is kept beside it", async () => {
    const edited = await config();
    edited.trigger = { mode: "host" };
    await writeInside(CONFIG, `${JSON.stringify(edited, null, 2)}\n`);
    const result = await install("/root/oauth-sync"); // with --trigger none
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("~ trigger: taken from the command line");
    expect(result.stdout).toContain("kept the config that was there as /etc/oauth-sync/config.json.");
    expect((await config()).trigger).toEqual({ mode: "none" });
    expect((await config()).notify).toEqual({ webhooks: [WEBHOOK] });
  }, 120_000);

  test("--reconfigure starts from detection and keeps the config it replaces beside it", async () => {
    const before = await readFile(join(box.root, CONFIG), "utf8");
    const result = await install("/root/oauth-sync", "--reconfigure");
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("- dropped (in the backup): notify (1 webhook(s)), watch (reconcileSeconds)");
    const after = await config();
    expect(after.notify).toBeUndefined();
    expect(after.watch).toBeUndefined();
    // The newest backup (earlier steps kept theirs too; the names sort by time).
    const backup = (await sh("ls /etc/oauth-sync")).split("\n").filter((f) => /^config\.json\..*\.bak$/.test(f)).sort().at(-1);
    expect(backup).toBeDefined();
    expect(await readFile(join(box.root, "etc/oauth-sync", backup!), "utf8")).toBe(before);
    expect(await sh(`stat -c %a /etc/oauth-sync/${backup}`)).toBe("600");
  }, 120_000);

  test("uninstall --purge removes a stray the config still names, the state, and /etc/oauth-sync itself", async () => {
    const edited = await config();
    edited.targets.push({ kind: "openclaw-auth-profiles", path: STRAY });
    await writeInside(CONFIG, `${JSON.stringify(edited, null, 2)}\n`);
    await sh(`oauth-sync sync --config ${CONFIG} || true`);
    expect(await sh(`test -f '${STRAY}' && echo there`)).toBe("there");
    const purge = await box.exec(["oauth-sync", "uninstall", "--purge"]);
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
    for (const gone of ["/etc/oauth-sync", "/var/lib/oauth-sync", STRAY_ROOT, "/usr/local/bin/oauth-sync"]) expect((await box.exec(["test", "-e", gone])).code).not.toBe(0);
    expect(await sh("test -f /root/.openclaw/openclaw.json && echo kept")).toBe("kept"); // OpenClaw's own files stay
    expect(await sh("systemctl list-unit-files 'oauth-sync*' --no-legend | wc -l")).toBe("0");
  }, 120_000);

  test("an install that is in place but cannot sync (a dead login) ends with exit 9 and what to do next", async () => {
    await writeInside("/root/dead.json", credentialsJson("", 0, ""));
    await writeInside(
      "/root/config.json",
      JSON.stringify({ credentials: "/root/dead.json", targets: [{ kind: "openclaw-auth-profiles", path: MAIN, reload: false }], trigger: { mode: "none" } }),
    );
    const result = await box.exec(["/root/oauth-sync", "install", "--yes", "--no-test", "--config", "/root/config.json"]);
    expect(result.code, result.stdout + result.stderr).toBe(9);
    expect(await sh("systemctl is-enabled oauth-sync.service")).toBe("enabled"); // in place, not rolled back
    expect(result.stderr).toContain("installed, but not healthy yet:");
    expect(result.stdout).toContain("next: `journalctl -u oauth-sync -n 50` shows what the service did");
    expect((await box.exec(["oauth-sync", "uninstall", "--purge"])).code).toBe(0);
  }, 120_000);
});
