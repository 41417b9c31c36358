/**
 * Rootless Podman Quadlets found where podman 5.4's generator finds them (its `quadlet -dryrun -user` in the containers
 * bed loaded each of these places): upstream's own Quadlet (both revisions in test/fixtures/openclaw-upstream), a
 * subdirectory, /etc/containers/systemd/users[/UID], drop-ins, ServiceName.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseQuadlet, quadletInstalls, quadletUnits } from "../../src/detect/quadlet.ts";
import { proposeConfig } from "../../src/install/propose.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/openclaw-upstream");
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A machine root with poduser (uid 1000) and the given files. */
function machine(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), "oauth-sync-quadlet-"));
  roots.push(root);
  const all = { "/etc/passwd": "root:x:0:0::/root:/bin/sh\npoduser:x:1000:1000::/home/poduser:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n", "/home/poduser/.openclaw/openclaw.json": '{"meta":{"lastTouchedVersion":"2026.9.6"}}', ...files };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** Upstream's Quadlet filled in as scripts/podman/setup.sh does. */
const upstream = (home: string, keepId = true) =>
  readFileSync(join(FIXTURES, "openclaw.container.59912ee4.in"), "utf8")
    .replaceAll("{{OPENCLAW_HOME}}", home)
    .replaceAll("{{OPENCLAW_CONFIG_DIR}}", `${home}/.openclaw`)
    .replaceAll("{{OPENCLAW_WORKSPACE_DIR}}", `${home}/.openclaw/workspace`)
    .replaceAll("{{IMAGE_NAME}}", "openclaw:local")
    .replaceAll("{{CONTAINER_NAME}}", "openclaw")
    .replace(keepId ? /^$/ : /^UserNS=keep-id\n/m, "");

describe("parseQuadlet", () => {
  test("upstream's Quadlet (both revisions): keep-id, the CLI its image runs, the unit and container names", () => {
    expect(parseQuadlet(upstream("/home/poduser"), "/home/poduser", "openclaw.container")).toEqual({
      stateDir: "/home/poduser/.openclaw",
      container: "openclaw",
      image: "openclaw:local",
      unit: "openclaw.service",
      cli: ["node", "dist/index.js"],
      keepId: true,
    });
    const older = readFileSync(join(FIXTURES, "openclaw.container.daa6939e.in"), "utf8").replaceAll("{{OPENCLAW_HOME}}", "/home/poduser");
    expect(parseQuadlet(older, "/home/poduser", "openclaw.container")).toMatchObject({ stateDir: "/home/poduser/.openclaw", cli: ["node", "dist/index.js"], keepId: true });
    expect(parseQuadlet(upstream("/home/poduser", false), "/home/poduser", "openclaw.container").keepId).toBe(false);
  });

  test("drop-ins in order: single keys overridden, the last mount of the state wins; ServiceName names unit and default container", () => {
    const main = "[Container]\nImage=a\nServiceName=oc-gw\nVolume=%h/.openclaw:/home/node/.openclaw\nExec=node openclaw.mjs gateway\n[Service]\nExec=ignored\n";
    const dropIn = "[Container]\nUserNS=keep-id:uid=1000,gid=1000\nVolume=%h/state:/home/node/.openclaw:Z\n";
    expect(parseQuadlet([main, dropIn], "/home/x", "openclaw.container")).toEqual({
      stateDir: "/home/x/state",
      container: "systemd-oc-gw",
      image: "a",
      unit: "oc-gw.service",
      cli: ["node", "openclaw.mjs"],
      keepId: true,
    });
  });
});

describe("quadletInstalls: where the generator looks", () => {
  test("~/.config/containers/systemd, its subdirectories, /etc/containers/systemd/users/UID and users/, first name wins", async () => {
    const root = machine({
      "/home/poduser/.config/containers/systemd/openclaw.container": upstream("/home/poduser"),
      "/home/poduser/.config/containers/systemd/gw/agent.container": "[Container]\nImage=b\nVolume=%h/.openclaw-b:/home/node/.openclaw\n",
      "/etc/containers/systemd/users/1000/openclaw.container": "[Container]\nImage=shadowed\nVolume=%h/other:/home/node/.openclaw\n",
      "/etc/containers/systemd/users/1000/sub/etc-one.container": "[Container]\nImage=c\nVolume=%h/.openclaw-c:/home/node/.openclaw\n",
      "/etc/containers/systemd/users/all.container": "[Container]\nImage=d\nVolume=%h/.openclaw-d:/home/node/.openclaw\n",
      "/etc/containers/systemd/users/1001/bobs.container": "[Container]\nImage=e\nVolume=%h/.openclaw-e:/home/node/.openclaw\n",
      "/home/poduser/.config/containers/systemd/web.container": "[Container]\nImage=nginx\n",
    });
    const found = await quadletInstalls(root, "/home/poduser");
    expect(found.map((f) => [f.value.stateDir, f.value.image, f.value.unit?.name])).toEqual([
      ["/home/poduser/.openclaw-b", "b", "agent.service"],
      ["/home/poduser/.openclaw", "openclaw:local", "openclaw.service"],
      ["/home/poduser/.openclaw-c", "c", "etc-one.service"],
      ["/home/poduser/.openclaw-d", "d", "all.service"],
    ]);
    expect(found[1]!.value).toMatchObject({ kind: "podman", container: "openclaw", containerCli: ["node", "dist/index.js"], owner: { user: "poduser", home: "/home/poduser", uid: 1000 }, release: "2026.9.6" });
    expect(found.slice(2).every((f) => f.value.missing?.length === 1)).toBe(true);
    expect((await quadletUnits(root, "/home/poduser")).map((u) => u.name)).toEqual(["agent.service", "openclaw.service", "etc-one.service", "all.service"]);
    expect(await quadletInstalls(root, "/root")).toEqual([]);
  });

  test("a drop-in beside the file applies; without keep-id the report says whose uids the files are", async () => {
    const root = machine({
      "/home/poduser/.config/containers/systemd/openclaw.container": upstream("/home/poduser", false),
      "/home/poduser/.config/containers/systemd/openclaw.container.d/10-name.conf": "[Container]\nContainerName=oc-renamed\n",
    });
    const [found] = await quadletInstalls(root, "/home/poduser");
    expect(found!.value.container).toBe("oc-renamed");
    expect(found!.source).toContain("(+ 10-name.conf)");
    expect(found!.source).toContain("without UserNS=keep-id, so the container's files belong to poduser's subordinate uids (/etc/subuid) and are written as those");
  });

  test("links are not followed and a deep tree is bounded", async () => {
    const root = machine({ "/srv/elsewhere/openclaw.container": upstream("/home/poduser") });
    mkdirSync(join(root, "home/poduser/.config/containers/systemd"), { recursive: true });
    symlinkSync(join(root, "srv/elsewhere"), join(root, "home/poduser/.config/containers/systemd/linked"));
    symlinkSync(join(root, "srv/elsewhere/openclaw.container"), join(root, "home/poduser/.config/containers/systemd/openclaw.container"));
    const deep = `/home/poduser/.config/containers/systemd/${"d/".repeat(8)}deep.container`;
    const withDeep = machine({ [deep]: upstream("/home/poduser") });
    expect(await quadletInstalls(root, "/home/poduser")).toEqual([]);
    expect(await quadletInstalls(withDeep, "/home/poduser")).toEqual([]);
  });

  test("the proposal runs the CLI the image has (`podman exec -i openclaw node dist/index.js`) as the user", async () => {
    const root = machine({ "/home/poduser/.config/containers/systemd/openclaw.container": upstream("/home/poduser", false) });
    const [found] = await quadletInstalls(root, "/home/poduser");
    const install = { ...found!.value, agents: ["main"], sqlite: true, legacyJson: [] };
    const { config } = proposeConfig(install, { path: "/home/poduser/.claude/.credentials.json", uid: 1000, home: "/home/poduser" }, { claudeOnHost: false });
    expect(config.targets).toEqual([{ kind: "openclaw-cli", command: ["podman", "exec", "-i", "openclaw", "node", "dist/index.js"], user: "poduser", env: { HOME: "/home/poduser", XDG_RUNTIME_DIR: "/run/user/1000" } }]);
    expect(config.gateway).toEqual({ kind: "systemd", unit: "openclaw.service", user: "poduser" });
  });
});
