import { describe, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { detect } from "../../src/detect/detect.ts";
import { isSqliteEra } from "../../src/detect/openclaw.ts";
import { proposeConfig } from "../../src/install/propose.ts";
import { runProcess } from "../../src/process/run.ts";
import { treeMaker } from "../support/fs-tree.ts";
import { tempDirs } from "../support/temp.ts";
import { parseConfig } from "../../src/config/load.ts";

const tree = treeMaker();
const temp = tempDirs();

const HOUR = 3_600_000;
const deps = { run: runProcess, now: Date.now(), cwd: "/nonexistent" };


const compose = (image: string) => `services:
  openclaw-gateway:
    image: ${image}
    env_file: .env
    volumes:
      - \${OPENCLAW_CONFIG_DIR}:/home/node/.openclaw
      - ./workspace:/home/node/workspace
  redis:
    image: redis:7
`;

describe("detection on sandbox trees", () => {
  test("docker, config dir from .env, JSON-era image, two agents → auth-profiles per agent read live (no reload), the .env that sets the variable kept current", async () => {
    const root = await tree({
      "/opt/openclaw/docker-compose.yml": compose("ghcr.io/openclaw/openclaw:2026.5.28"),
      "/opt/openclaw/.env": "OPENCLAW_CONFIG_DIR=/srv/openclaw-config\nANTHROPIC_OAUTH_TOKEN=\n",
      "/srv/openclaw-config/agents/main/agent/auth-profiles.json": "{}",
      "/srv/openclaw-config/agents/work/agent/auth-profiles.json": "{}",
      "/root/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 8 * HOUR),
    });
    const d = await detect(root, {}, deps);
    expect(d.install?.value).toMatchObject({ kind: "compose", stateDir: "/srv/openclaw-config", projectDir: "/opt/openclaw", service: "openclaw-gateway", release: "2026.5.28", agents: ["main", "work"], sqlite: false });
    expect(d.install?.source).toContain("/opt/openclaw/docker-compose.yml");
    const { config } = proposeConfig(d.install!.value, d.login!.value, { claudeOnHost: true });
    expect(config.targets).toEqual([
      { kind: "openclaw-auth-profiles", path: "/srv/openclaw-config/agents/main/agent/auth-profiles.json", reload: false },
      { kind: "openclaw-auth-profiles", path: "/srv/openclaw-config/agents/work/agent/auth-profiles.json", reload: false },
      { kind: "env-file", path: "/opt/openclaw/.env", reload: false },
    ]);
    expect(config.gateway).toMatchObject({ kind: "compose", projectDir: "/opt/openclaw", service: "openclaw-gateway" });
    expect(parseConfig(JSON.stringify(config), "/etc/oauth-sync/config.json").ok).toBe(true);
  });

  test("docker, SQLite-era image → openclaw-cli through docker compose exec, no .env target where .env has no token; leftover JSON reported", async () => {
    const root = await tree({
      "/srv/claw/compose.yaml": compose("openclaw/openclaw:2026.9.6"),
      "/srv/claw/.env": "OPENCLAW_CONFIG_DIR=./config\n",
      "/srv/claw/config/agents/main/agent/auth-profiles.json": "{}",
    });
    const d = await detect(root, {}, deps);
    expect(d.install?.value).toMatchObject({ stateDir: "/srv/claw/config", release: "2026.9.6" });
    const { config, notes } = proposeConfig(d.install!.value, { path: "/root/.claude/.credentials.json", uid: 0, home: "/root" }, { claudeOnHost: false });
    expect(config.targets).toEqual([
      { kind: "openclaw-cli", command: ["docker", "compose", "-f", "/srv/claw/compose.yaml", "exec", "-T", "openclaw-gateway", "openclaw"] },
    ]);
    expect(notes.join("\n")).toContain("doctor --fix");
    expect(config.trigger).toEqual({ mode: "none" });
  });

  test("native ~/.openclaw: release from openclaw.json, or the SQLite store on disk when unknown", async () => {
    const root = await tree({
      "/home/claw/.openclaw/openclaw.json": JSON.stringify({ meta: { lastTouchedVersion: "2026.9.6" } }),
      "/home/claw/.openclaw/state/openclaw.sqlite": "",
      "/root/.openclaw/agents/main/agent/openclaw-agent.sqlite": "",
    });
    const d = await detect(root, {}, deps);
    const native = d.installs.map((i) => i.value);
    expect(native).toContainEqual(expect.objectContaining({ kind: "native", stateDir: "/home/claw/.openclaw", release: "2026.9.6", sqlite: true }));
    expect(native).toContainEqual(expect.objectContaining({ kind: "native", stateDir: "/root/.openclaw", sqlite: true }));
    const root2 = d.installs.find((i) => i.value.stateDir === "/root/.openclaw")!.value;
    const { config, notes } = proposeConfig(root2, { path: "/root/.claude/.credentials.json", uid: 0, home: "/root" }, { claudeOnHost: true });
    expect(config.targets).toEqual([{ kind: "openclaw-cli", command: ["openclaw"], env: { HOME: "/root" } }]);
    expect(notes.join("\n")).toContain("release is unknown");
  });

  test("Claude logins of root and users: the usable one that lives longest is chosen; a blanked one is shown", async () => {
    const later = Date.now() + 7 * HOUR;
    const root = await tree({
      "/root/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 2 * HOUR),
      "/home/ana/.claude/.credentials.json": credentialsJson(fakeToken(), later),
      "/home/bob/.claude/.credentials.json": JSON.stringify({ claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0 } }),
    });
    const d = await detect(root, {}, deps);
    expect(d.logins).toHaveLength(3);
    expect(d.login?.value).toMatchObject({ path: "/home/ana/.claude/.credentials.json", expiresAt: later });
    expect(d.logins.find((l) => l.value.path.startsWith("/home/bob"))?.value.problem).toContain("blanked");
    expect(JSON.stringify(d)).not.toContain("sk-ant-");
  });

  test("flags override what was found", async () => {
    const root = await tree({ "/opt/openclaw/docker-compose.yml": compose("ghcr.io/openclaw/openclaw:2026.5.28"), "/opt/openclaw/.env": "OPENCLAW_CONFIG_DIR=/cfg\n" });
    const d = await detect(root, { credentials: "/srv/claude/.credentials.json", release: "2026.9.6" }, deps);
    expect(d.login?.value.path).toBe("/srv/claude/.credentials.json");
    expect(d.install?.value.release).toBe("2026.9.6");
  });

  test("era from release", () => {
    expect([isSqliteEra("2026.5.28"), isSqliteEra("2026.6.1"), isSqliteEra("2027.1.0"), isSqliteEra(undefined)]).toEqual([false, true, true, undefined]);
  });
});

describe("CLAUDE_CONFIG_DIR", () => {
  test("read from a process environment; mapped through a container's mounts", async () => {
    const { configDirOf } = await import("../../src/detect/claude.ts");
    const { hostPathOf } = await import("../../src/detect/container-claude.ts");
    expect(configDirOf("PATH=/bin\0CLAUDE_CONFIG_DIR=/srv/claude\0HOME=/root\0")).toBe("/srv/claude");
    expect(configDirOf("PATH=/bin\0")).toBeUndefined();
    const mounts = [{ Source: "/var/lib/claude-state", Destination: "/data" }];
    expect(hostPathOf(mounts, "/root", "/data/claude")).toEqual(["/var/lib/claude-state/claude/.credentials.json"]);
    expect(hostPathOf(mounts, "/root")).toEqual([]);
  });

  test("a login in a CLAUDE_CONFIG_DIR that a running process uses is found", async () => {
    const dir = temp("oauth-sync-configdir-");
    await writeFile(join(dir, ".credentials.json"), credentialsJson(fakeToken(), Date.now() + 6 * HOUR), { mode: 0o600 });
    const holder = Bun.spawn(["sleep", "30"], { env: { PATH: process.env.PATH!, CLAUDE_CONFIG_DIR: dir } });
    try {
      const d = await detect("/", { projectDir: "/nonexistent" }, deps);
      const found = d.logins.find((l) => l.value.path === join(dir, ".credentials.json"));
      expect(found?.source).toContain("CLAUDE_CONFIG_DIR of a running process");
      expect(found?.value.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    } finally {
      holder.kill();
    }
  });
});

describe("compose volumes, gateway units, package.json releases", () => {
  const { releaseOfPackageJson } = require("../../src/detect/openclaw.ts") as typeof import("../../src/detect/openclaw.ts");

  /** A process runner that answers `docker volume inspect` for one volume, and nothing else. */
  const fakeDocker = (volume: string, mountpoint: string) => {
    const calls: string[][] = [];
    const run = async (argv: string[]) => {
      calls.push(argv);
      const answer = argv.join(" ") === `docker volume inspect --format {{.Mountpoint}} ${volume}` ? { code: 0, stdout: `${mountpoint}\n` } : { code: 1, stdout: "" };
      return { ...answer, stderr: "", timedOut: false };
    };
    return { run, calls };
  };

  test("the state dir mounted as a bind (short and long syntax), or a named volume; compose's project name", () => {
    const { parseMount, projectName } = require("../../src/detect/compose-resolve.ts") as typeof import("../../src/detect/compose-resolve.ts");
    expect(parseMount("./cfg:/home/node/.openclaw", "/opt/oc", "/root")).toEqual({ type: "bind", source: "/opt/oc/cfg", target: "/home/node/.openclaw" });
    expect(parseMount("~/.openclaw:/home/node/.openclaw:rw", "/opt/oc", "/home/ana")).toEqual({ type: "bind", source: "/home/ana/.openclaw", target: "/home/node/.openclaw" });
    expect(parseMount({ type: "bind", source: "/data/oc", target: "/home/node/.openclaw/" }, "/opt/oc", "/root")).toEqual({ type: "bind", source: "/data/oc", target: "/home/node/.openclaw" });
    expect(parseMount("openclaw-state:/home/node/.openclaw:rw", "/opt/oc", "/root")).toEqual({ type: "volume", source: "openclaw-state", target: "/home/node/.openclaw" });
    expect(parseMount("/anonymous", "/opt/oc", "/root")).toBeUndefined();
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    expect(projectName("/opt/Open.Claw", env({}))).toBe("openclaw");
    expect(projectName("/opt/x", env({}), "oc")).toBe("oc");
    expect(projectName("/opt/x", env({ COMPOSE_PROJECT_NAME: "prod" }), "oc")).toBe("prod");
  });

  test("a named volume at /home/node/.openclaw is found on the host through docker volume inspect", async () => {
    const root = await tree({
      "/opt/openclaw/docker-compose.yml": "services:\n  openclaw-gateway:\n    image: ghcr.io/openclaw/openclaw:2026.5.28\n    volumes:\n      - state:/home/node/.openclaw\nvolumes:\n  state: {}\n",
      "/var/lib/docker/volumes/openclaw_state/_data/agents/main/agent/auth-profiles.json": "{}",
      "/var/lib/docker/volumes/openclaw_state/_data/agents/ops/agent/auth-profiles.json": "{}",
    });
    const docker = fakeDocker("openclaw_state", "/var/lib/docker/volumes/openclaw_state/_data");
    const d = await detect(root, {}, { ...deps, run: docker.run });
    expect(d.install?.value).toMatchObject({ kind: "compose", stateDir: "/var/lib/docker/volumes/openclaw_state/_data", agents: ["main", "ops"], release: "2026.5.28" });
    expect(d.install?.source).toContain("volume openclaw_state");
    // Without docker the volume cannot be placed: the project is shown with the problem, never a guessed dir.
    const blind = await detect(root, {}, { ...deps, run: fakeDocker("x", "/x").run });
    expect(blind.install?.value.problems).toEqual(["named volume openclaw_state not found through the docker engine"]);
    expect(blind.install?.value.stateDir).toBe("");
  });

  test("a user's openclaw-gateway unit → the systemd gateway through that user's manager; a system unit → system", async () => {
    const root = await tree({
      "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nclaw:x:1000:1000::/home/claw:/bin/bash\n",
      "/home/claw/.openclaw/openclaw.json": JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } }),
      "/home/claw/.config/systemd/user/openclaw-gateway.service": "[Service]\nExecStart=/usr/bin/openclaw gateway\n",
      "/home/claw/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 8 * HOUR),
    });
    const d = await detect(root, {}, deps);
    expect(d.gatewayUnits.map((u) => u.value)).toEqual([{ user: "claw", home: "/home/claw", name: "openclaw-gateway.service" }]);
    expect(d.gatewayUnit).toBe(false);
    const { config } = proposeConfig(d.install!.value, d.login!.value, { claudeOnHost: true, gatewayUnit: d.gatewayUnit, userGatewayUnits: d.gatewayUnits.map((u) => u.value) });
    expect(config.gateway).toEqual({ kind: "systemd", unit: "openclaw-gateway.service", user: "claw" });
    expect(parseConfig(JSON.stringify(config), "/etc/oauth-sync/config.json").ok).toBe(true);

    const system = await tree({ "/root/.openclaw/openclaw.json": "{}", "/etc/systemd/system/openclaw-gateway.service": "[Service]\n" });
    const s = await detect(system, {}, deps);
    expect(s.gatewayUnit).toBe(true);
    expect(proposeConfig(s.install!.value, { path: "/root/.claude/.credentials.json", uid: 0, home: "/root" }, { claudeOnHost: false, gatewayUnit: s.gatewayUnit }).config.gateway).toEqual({
      kind: "systemd",
      unit: "openclaw-gateway.service",
    });
  });

  test("the release in OpenClaw's package.json, not another package's", () => {
    expect(releaseOfPackageJson(`{\n  "name": "openclaw",\n  "version": "2026.6.3",\n  "dependencies": {}\n}`)).toBe("2026.6.3");
    expect(releaseOfPackageJson(`{"name": "my-app", "version": "2026.6.3"}`)).toBeUndefined();
  });
});

describe("choosing by evidence", () => {
  test("a near-empty /root/.openclaw loses to a user's install with openclaw.json, a store, a release and two agents; the report says why", async () => {
    const root = await tree({
      "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nana:x:1000:1000::/home/ana:/bin/bash\n",
      "/root/.openclaw/cache/x": "",
      "/home/ana/.openclaw/openclaw.json": JSON.stringify({ meta: { lastTouchedVersion: "2026.9.6" }, agents: { entries: { main: {}, work: {} } } }),
      "/home/ana/.openclaw/state/openclaw.sqlite": "",
    });
    const d = await detect(root, {}, deps);
    expect(d.install?.value.stateDir).toBe("/home/ana/.openclaw");
    expect(d.tie).toBe(false);
    expect(d.ranked[0]!.reasons).toEqual(["+3 openclaw.json", "+3 SQLite store", "+2 release 2026.9.6", "+2 2 agent(s) in openclaw.json"]);
    const { formatDetection } = await import("../../src/detect/detect.ts");
    expect(formatDetection(d).join("\n")).toContain("score 10: +3 openclaw.json");
    const { config } = proposeConfig(d.install!.value, { path: "/x", uid: 0, home: "/root" }, { claudeOnHost: false });
    expect(config.targets).toEqual([
      { kind: "openclaw-cli", command: ["openclaw"], agent: "main", user: "ana", env: { HOME: "/home/ana" } },
      { kind: "openclaw-cli", command: ["openclaw"], agent: "work", user: "ana", env: { HOME: "/home/ana" } },
    ]);
  });

  test("two equal candidates are a tie, with the flag that settles it; the flag ends the tie", async () => {
    const same = JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } });
    const root = await tree({ "/home/ana/.openclaw/openclaw.json": same, "/home/bob/.openclaw/openclaw.json": same });
    const d = await detect(root, {}, deps);
    expect(d.tie).toBe(true);
    const { formatDetection } = await import("../../src/detect/detect.ts");
    expect(formatDetection(d).join("\n")).toMatch(/tie: .* pick one with --openclaw-dir \/home\/(ana|bob)\/\.openclaw/);
    const settled = await detect(root, { openclawDir: "/home/bob/.openclaw" }, deps);
    expect([settled.tie, settled.install?.value.stateDir]).toEqual([false, "/home/bob/.openclaw"]);
  });

  test("$HOME and SUDO_USER's home are searched; an expired login never wins over a fresh one", async () => {
    const fresh = Date.now() + 2 * HOUR;
    const root = await tree({
      "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nzoe:x:1001:1001::/srv/users/zoe:/bin/bash\n",
      "/root/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() - HOUR),
      "/srv/users/zoe/.claude/.credentials.json": credentialsJson(fakeToken(), fresh),
      "/srv/users/zoe/.openclaw/openclaw.json": "{}",
    });
    const d = await detect(root, {}, { ...deps, env: { SUDO_USER: "zoe" } });
    expect(d.login?.value).toMatchObject({ path: "/srv/users/zoe/.claude/.credentials.json", expiresAt: fresh });
    expect(d.install?.value.stateDir).toBe("/srv/users/zoe/.openclaw");
    const { formatDetection } = await import("../../src/detect/detect.ts");
    expect(formatDetection(d).join("\n")).toMatch(/ \/root\/\.claude\/\.credentials\.json \(uid \d+\): unusable: .* expired at/);
    const { pickLogin } = await import("../../src/detect/claude.ts");
    const login = (path: string, expiresAt: number) => ({ value: { path, uid: 0, home: "/", expiresAt }, source: path });
    const now = Date.now();
    expect(pickLogin([login("/a", now - 1), login("/b", now + 1000)], now)?.value.path).toBe("/b");
    expect(pickLogin([login("/a", now - 1)], now)?.value.path).toBe("/a");
  });
});

describe("compose files that are not there", () => {
  test("COMPOSE_FILE naming a missing file: the project is shown with the file reported missing, never dropped in silence", async () => {
    const root = await tree({
      "/opt/claw/docker-compose.yml": "services:\n  openclaw-gateway:\n    image: ghcr.io/openclaw/openclaw:2026.9.6\n    volumes:\n      - ./state:/home/node/.openclaw\n",
      "/opt/claw/.env": "COMPOSE_FILE=docker-compose.yml:docker-compose.prod.yml\n",
      "/opt/claw/state/openclaw.json": "{}",
    });
    const d = await detect(root, {}, deps);
    expect(d.install?.value).toMatchObject({ stateDir: "/opt/claw/state", missing: ["/opt/claw/docker-compose.prod.yml"] });
    expect(d.install?.value.problems).toContain("compose file /opt/claw/docker-compose.prod.yml does not exist");
    const { formatDetection } = await import("../../src/detect/detect.ts");
    expect(formatDetection(d).join("\n")).toContain("missing: /opt/claw/docker-compose.prod.yml does not exist on this machine");
  });
});

describe("the CLI inside the gateway container", () => {
  test("taken from the service's command or entrypoint where it runs node on OpenClaw's entry; else openclaw", async () => {
    const { cliInContainer } = await import("../../src/detect/openclaw.ts");
    expect(cliInContainer(["node", "dist/index.js", "gateway", "--bind", "lan"], undefined)).toEqual(["node", "dist/index.js"]);
    expect(cliInContainer(undefined, ["node", "dist/index.js"])).toEqual(["node", "dist/index.js"]);
    expect(cliInContainer("node openclaw.mjs gateway --allow-unconfigured", undefined)).toEqual(["node", "openclaw.mjs"]);
    expect(cliInContainer(["openclaw", "gateway"], undefined)).toBeUndefined();
    expect(cliInContainer(["sleep", "3600"], undefined)).toBeUndefined();
  });
});

describe("--openclaw-dir that is not there", () => {
  test("reported missing, and the proposal says so", async () => {
    const root = await tree({ "/root/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 8 * HOUR) });
    const d = await detect(root, { openclawDir: "/srv/nowhere/.openclaw" }, deps);
    expect(d.install?.value.missing).toEqual(["/srv/nowhere/.openclaw"]);
    const { notes } = proposeConfig(d.install!.value, d.login!.value, { claudeOnHost: false });
    expect(notes.join("\n")).toContain("/srv/nowhere/.openclaw does not exist");
  });
});


describe("flags are taken as given, with what detection alone said beside them", () => {
  test("--project-dir on a project whose image is not called openclaw: found by the state mount it has", async () => {
    const root = await tree({
      "/srv/gw/docker-compose.yml": compose("registry.example/team/agent-gateway:4"),
      "/srv/gw/.env": "OPENCLAW_CONFIG_DIR=/srv/gw/state\n",
      "/srv/gw/state/openclaw.json": JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } }),
      "/root/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 8 * HOUR),
    });
    const d = await detect(root, { projectDir: "/srv/gw" }, deps);
    expect(d.install?.value).toMatchObject({ kind: "compose", stateDir: "/srv/gw/state", service: "openclaw-gateway" });
    expect(d.install?.source).toStartWith("--project-dir /srv/gw: ");
    const { formatDetection } = await import("../../src/detect/detect.ts");
    const shown = formatDetection(d).join("\n");
    expect(shown).toContain("→ compose: --project-dir /srv/gw");
    expect(shown).toContain("taken as given; detection alone: compose /srv/gw");
  });

  test("--project-dir where no service mounts OpenClaw's state: said so, with the flag to add", async () => {
    const root = await tree({ "/srv/other/docker-compose.yml": "services:\n  web:\n    image: nginx\n" });
    const d = await detect(root, { projectDir: "/srv/other" }, deps);
    expect(d.install?.value.stateDir).toBe("");
    expect(d.install?.value.problems?.[0]).toContain("pass --openclaw-dir too");
  });

  test("--credentials is listed under the logins (not under OpenClaw), with its real owner and what detection would pick", async () => {
    const root = await tree({
      "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nana:x:1000:1000::/home/ana:/bin/bash\n",
      "/root/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 8 * HOUR),
      "/srv/claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 4 * HOUR),
      "/root/.openclaw/openclaw.json": "{}",
    });
    const d = await detect(root, { credentials: "/srv/claude/.credentials.json" }, deps);
    const { formatDetection } = await import("../../src/detect/detect.ts");
    const shown = formatDetection(d);
    const logins = shown.slice(0, shown.indexOf("OpenClaw:"));
    expect(logins.join("\n")).toContain("→ --credentials /srv/claude/.credentials.json");
    expect(logins.join("\n")).toContain("taken as given; detection alone: /root/.claude/.credentials.json");
    expect(d.login?.value.fingerprint).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe("pairing: a login goes to an OpenClaw of its own user", () => {
  const passwd = "root:x:0:0:root:/root:/bin/bash\nana:x:1000:1000::/home/ana:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n";
  const rich = JSON.stringify({ meta: { lastTouchedVersion: "2026.9.6" }, agents: { entries: { main: {}, work: {} } } });

  test("root's login with root's modest install and another user's richer one: root's pair, not across users", async () => {
    const root = await tree({
      "/etc/passwd": passwd,
      "/root/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 8 * HOUR),
      "/root/.openclaw/openclaw.json": "{}",
      "/home/bob/.openclaw/openclaw.json": rich,
      "/home/bob/.openclaw/state/openclaw.sqlite": "",
    });
    const d = await detect(root, {}, deps);
    expect(d.ranked[0]!.found.value.stateDir).toBe("/home/bob/.openclaw"); // bob's scores higher…
    expect(d.install?.value.stateDir).toBe("/root/.openclaw"); // …but has no login of bob's
    expect(d.cross).toBeUndefined();
  });

  test("only another user's OpenClaw: the pair crosses users and says whose is whose", async () => {
    const root = await tree({ "/etc/passwd": passwd, "/home/ana/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 8 * HOUR), "/home/bob/.openclaw/openclaw.json": rich });
    const d = await detect(root, {}, deps);
    expect(d.cross).toEqual({ loginUser: "ana", installUser: "bob" });
    const { formatDetection } = await import("../../src/detect/detect.ts");
    expect(formatDetection(d).join("\n")).toContain("the login is ana's, this OpenClaw is bob's: two different users");
  });

  test("--openclaw-dir picks the install; the login is that user's own where there is one", async () => {
    const root = await tree({
      "/etc/passwd": passwd,
      "/home/ana/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 20 * HOUR),
      "/home/bob/.claude/.credentials.json": credentialsJson(fakeToken(), Date.now() + 2 * HOUR),
      "/home/ana/.openclaw/openclaw.json": rich,
      "/home/bob/.openclaw/openclaw.json": "{}",
    });
    const d = await detect(root, { openclawDir: "/home/bob/.openclaw" }, deps);
    expect(d.login?.value.path).toBe("/home/bob/.claude/.credentials.json");
    expect(d.cross).toBeUndefined();
  });
});

describe("agents from someone else's directory", () => {
  test("names that are not plain ids are skipped and shown escaped; more than 8 are capped unless asked", async () => {
    const files: Record<string, string> = { "/home/ana/.openclaw/openclaw.json": JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } }) };
    for (let i = 0; i < 12; i++) files[`/home/ana/.openclaw/agents/a${String(i).padStart(2, "0")}/agent/x`] = "";
    files["/home/ana/.openclaw/agents/evil\u001b]52;c;eA==\u0007/agent/x"] = "";
    files["/home/ana/.openclaw/agents/two\nlines/agent/x"] = "";
    const root = await tree(files);
    const { stateFacts } = await import("../../src/detect/openclaw.ts");
    const facts = await stateFacts(root, "/home/ana/.openclaw");
    expect(facts.agents).toHaveLength(12);
    expect(facts.skippedAgents).toEqual(['"evil\\u001b]52;c;eA==\\u0007"', '"two\\nlines"']);
    const install = { kind: "native" as const, stateDir: "/home/ana/.openclaw", release: "2026.5.28", ...facts, agentsOwner: 1000 };
    const login = { path: "/root/.claude/.credentials.json", uid: 0, home: "/root" };
    const capped = proposeConfig(install, login, { claudeOnHost: false });
    expect(capped.config.targets as unknown[]).toHaveLength(8);
    expect(capped.notes.join("\n")).toContain("12 agents in /home/ana/.openclaw/agents, which uid 1000 owns: proposing 8 of them");
    expect(capped.notes.join("\n")).toContain("skipped agent name(s)");
    expect(capped.notes.join("\n")).not.toContain("\u001b");
    expect(proposeConfig(install, login, { claudeOnHost: false, maxAgents: 12 }).config.targets as unknown[]).toHaveLength(12);
    // The owner installing for themselves is never capped.
    expect(proposeConfig(install, login, { claudeOnHost: false, selfUid: 1000 }).config.targets as unknown[]).toHaveLength(12);
    expect(parseConfig(JSON.stringify(capped.config), "/etc/oauth-sync/config.json").ok).toBe(true);
  });
});
