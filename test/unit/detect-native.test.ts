import { describe, expect, test } from "bun:test";
import { claudeCliAgents, configuredAgents } from "../../src/detect/openclaw.ts";
import { execStartOpenClaw, findOpenClawBinary, parseQuadlet, profileOfDir, uidOf, userOfHome } from "../../src/detect/native.ts";
import { openclawCommands } from "../../src/detect/openclaw-report.ts";
import { treeMaker } from "../support/fs-tree.ts";
import { parseConfig } from "../../src/config/load.ts";

const tree = treeMaker();


describe("native installs: names, units, binaries", () => {
  test("state dir names and profiles", () => {
    expect([".openclaw", ".openclaw-work", ".openclaw-dev", ".openclaw-backups", ".openclawx", "openclaw"].map(profileOfDir)).toEqual([{}, { profile: "work" }, { profile: "dev" }, undefined, undefined, undefined]);
  });

  test("users and uids from /etc/passwd", () => {
    const passwd = "root:x:0:0:root:/root:/bin/bash\nana:x:1000:1000::/srv/ana:/bin/bash\n";
    expect([userOfHome(passwd, "/srv/ana"), userOfHome(passwd, "/root"), userOfHome(passwd, "/home/bob"), userOfHome(passwd, "/tmp/x")]).toEqual(["ana", "root", "bob", undefined]);
    expect([uidOf(passwd, "ana"), uidOf(passwd, "nobody")]).toEqual([1000, undefined]);
  });

  test("the openclaw a unit runs: a direct ExecStart, or node on the package's entry (quoted as OpenClaw writes it)", () => {
    expect(execStartOpenClaw("[Service]\nExecStart=/home/ana/.nvm/versions/node/v24.1.0/bin/openclaw gateway --port 18789\n")).toEqual({ argv: ["/home/ana/.nvm/versions/node/v24.1.0/bin/openclaw"] });
    expect(execStartOpenClaw('[Service]\nExecStart="/home/ana/.nvm/versions/node/v24.1.0/bin/node" "/home/ana/.npm global/lib/node_modules/openclaw/dist/index.js" gateway --port 18789\n')).toEqual({
      argv: ["/home/ana/.nvm/versions/node/v24.1.0/bin/node", "/home/ana/.npm global/lib/node_modules/openclaw/dist/index.js"],
      pathDir: "/home/ana/.nvm/versions/node/v24.1.0/bin",
    });
    expect(execStartOpenClaw("ExecStart=-/usr/bin/node /opt/openclaw/openclaw.mjs gateway\n")?.argv).toEqual(["/usr/bin/node", "/opt/openclaw/openclaw.mjs"]);
    expect(execStartOpenClaw("ExecStart=/usr/bin/sleep 1\n")).toBeUndefined();
  });

  test("where a user's openclaw is: the unit first, then the newest nvm node (its bin dir on PATH), the ~/.npmrc prefix, ~/.local/bin", async () => {
    const root = await tree({
      "/home/ana/.nvm/versions/node/v22.16.0/bin/openclaw": "",
      "/home/ana/.nvm/versions/node/v24.2.0/bin/openclaw": "",
      "/home/ana/.nvm/versions/node/v24.2.0/bin/node": "",
      "/home/ana/.local/bin/openclaw": "",
      "/home/bob/.npmrc": "prefix=~/.npm-packages\n",
      "/home/bob/.npm-packages/bin/openclaw": "",
      "/home/cy/.local/bin/openclaw": "",
      "/opt/oc/bin/openclaw": "",
    });
    expect((await findOpenClawBinary(root, "/home/ana"))?.value).toEqual({ argv: ["/home/ana/.nvm/versions/node/v24.2.0/bin/openclaw"], pathDir: "/home/ana/.nvm/versions/node/v24.2.0/bin" });
    expect(await findOpenClawBinary(root, "/home/ana", "ExecStart=/opt/oc/bin/openclaw gateway\n")).toEqual({ value: { argv: ["/opt/oc/bin/openclaw"] }, source: "the gateway unit's ExecStart" });
    expect((await findOpenClawBinary(root, "/home/ana", "ExecStart=/home/ana/.nvm/versions/node/v24.2.0/bin/openclaw gateway\n"))?.value.pathDir).toBe("/home/ana/.nvm/versions/node/v24.2.0/bin");
    expect((await findOpenClawBinary(root, "/home/bob"))?.source).toBe("npm prefix /home/bob/.npm-packages (~/.npmrc)");
    expect((await findOpenClawBinary(root, "/home/cy"))?.value).toEqual({ argv: ["/home/cy/.local/bin/openclaw"] });
    expect(await findOpenClawBinary(root, "/home/nobody")).toBeUndefined();
  });

  test("a Quadlet's state dir and container name (%h is the home; default name systemd-<file>)", () => {
    expect(parseQuadlet("[Container]\nImage=ghcr.io/openclaw/openclaw:2026.9.6\nVolume=%h/.openclaw:/home/node/.openclaw:Z\n", "/home/ana", "openclaw.container")).toEqual({
      stateDir: "/home/ana/.openclaw",
      container: "systemd-openclaw",
      image: "ghcr.io/openclaw/openclaw:2026.9.6",
      unit: "openclaw.service",
      keepId: false,
    });
    expect(parseQuadlet("ContainerName=oc\nVolume=oc-data:/home/node/.openclaw\n", "/home/ana", "openclaw.container")).toEqual({ stateDir: undefined, container: "oc", image: undefined, unit: "openclaw.service", keepId: false });
  });
});

describe("agents in openclaw.json", () => {
  test("agents.entries (2026.9) and agents.list (earlier)", () => {
    expect(configuredAgents({ agents: { entries: { main: {}, work: {} } } })).toEqual(["main", "work"]);
    expect(configuredAgents({ agents: { list: [{ id: "main" }, { id: "ops" }, { name: "no id" }] } })).toEqual(["main", "ops"]);
    expect(configuredAgents(undefined)).toEqual([]);
  });

  test("Claude CLI runtime: on the agent's model entry, on the defaults' entry for its model, or on the agent", () => {
    const cli = { agentRuntime: { id: "claude-cli" } };
    const config = {
      agents: {
        defaults: { model: { primary: "anthropic/claude-opus-5" }, models: { "anthropic/claude-opus-5": cli } },
        entries: {
          main: {},
          work: { model: "anthropic/claude-sonnet-4-5", models: { "anthropic/claude-sonnet-4-5": { agentRuntime: { id: "pi" } } } },
          ops: { model: "anthropic/claude-sonnet-4-5", ...cli },
          api: { model: "anthropic/claude-sonnet-4-5" },
        },
      },
    };
    expect(claudeCliAgents(config, ["main", "work", "ops", "api"])).toEqual(["main", "ops"]);
    expect(claudeCliAgents({ agents: { entries: { main: {} } } }, ["main"])).toEqual([]);
  });
});

describe("status asks each agent", () => {
  test("models status --agent ID for an openclaw-cli target with an agent", () => {
    const parsed = parseConfig(JSON.stringify({ credentials: "/c", targets: [{ kind: "openclaw-cli", agent: "work" }, { kind: "openclaw-cli" }] }), "/etc/oauth-sync/config.json");
    if (!parsed.ok) throw new Error(parsed.errors.join());
    expect(openclawCommands(parsed.config).map((c) => [c.argv, c.source])).toEqual([
      [["openclaw", "models", "status", "--json", "--agent", "work"], "openclaw (agent work)"],
      [["openclaw", "models", "status", "--json"], "openclaw"],
    ]);
  });
});

describe("running gateways", () => {
  test("the state dir a gateway process serves: HOME, --profile, OPENCLAW_STATE_DIR", async () => {
    const { gatewayStateDir } = await import("../../src/detect/native.ts");
    const z = (...parts: string[]) => parts.join("\0");
    expect(gatewayStateDir(z("node", "/usr/lib/node_modules/openclaw/openclaw.mjs", "gateway", "--port", "18789"), z("HOME=/home/ana", "PATH=/bin"))).toBe("/home/ana/.openclaw");
    expect(gatewayStateDir(z("/home/ana/.local/bin/openclaw", "--profile", "work", "gateway"), z("HOME=/home/ana"))).toBe("/home/ana/.openclaw-work");
    expect(gatewayStateDir(z("node", "dist/index.js", "gateway"), z("HOME=/home/node", "OPENCLAW_STATE_DIR=/data/oc"))).toBe("/data/oc");
    expect(gatewayStateDir(z("openclaw", "models", "status"), z("HOME=/home/ana"))).toBeUndefined();
    expect(gatewayStateDir(z("sleep", "gateway"), z("HOME=/home/ana"))).toBeUndefined();
    // 2026.9 renames its process (argv gone): the SQLite store it holds open says where.
    expect(gatewayStateDir(z("openclaw-gateway"), z("HOME=/home/ana"), ["/tmp/openclaw-state-locks-0/x.lock.sqlite", "/home/ana/.openclaw-work/state/openclaw.sqlite"])).toBe("/home/ana/.openclaw-work");
    expect(gatewayStateDir(z("openclaw-gateway"), z("HOME=/home/ana"), [])).toBeUndefined();
  });
});
