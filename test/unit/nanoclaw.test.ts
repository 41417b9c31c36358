/** NanoClaw detection and its proposal, on checkouts laid out as its setup leaves them (test/support/nanoclaw.ts). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { classifyReads, envFacts, nanoclawInstalls, projectOfUnit, refreshEvidence, unitFacts } from "../../src/install/detect-nanoclaw.ts";
import { addNanoClaw, proposeNanoClaw, proposeNanoClawConfig } from "../../src/install/propose.ts";
import { nanoclawUnit, unitPath, writeCheckout, type Era } from "../support/nanoclaw.ts";

const NANO = { uid: 4242, gid: 4242 };
const LOGIN = { path: "/home/nano/.claude/.credentials.json", uid: NANO.uid, home: "/home/nano" };
let root = "";

function layout(name: string, options: { era: Era; asRoot?: boolean; env?: string; refresher?: boolean; version?: string }) {
  const machine = join(root, name);
  mkdirSync(join(machine, "etc"), { recursive: true });
  writeFileSync(join(machine, "etc/passwd"), `root:x:0:0:root:/root:/bin/bash\nnano:x:${NANO.uid}:${NANO.gid}::/home/nano:/bin/bash\n`);
  const home = options.asRoot ? "/root" : "/home/nano";
  const projectDir = join(home, "nanoclaw");
  writeCheckout(machine, projectDir, { era: options.era, version: options.version ?? "1.2.11", env: options.env ?? "ASSISTANT_NAME=Andy\nCLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-old\n", owner: options.asRoot ? undefined : NANO, refresher: options.refresher });
  const unit = join(machine, unitPath(home, options.asRoot === true));
  mkdirSync(join(unit, ".."), { recursive: true });
  writeFileSync(unit, nanoclawUnit(projectDir, home, options.asRoot === true));
  return { machine, projectDir, homes: ["/root", "/home/nano"] };
}

beforeAll(() => {
  root = join(tmpdir(), `oauth-sync-nanoclaw-${process.pid}`);
  mkdirSync(root, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("reading NanoClaw's own files", () => {
  test("its unit: the project is the WorkingDirectory (and the directory of dist/index.js)", () => {
    const unit = nanoclawUnit("/home/nano/nanoclaw", "/home/nano", false);
    expect(unitFacts(unit)).toMatchObject({ workingDirectory: "/home/nano/nanoclaw", execStart: ["/usr/bin/node", "/home/nano/nanoclaw/dist/index.js"] });
    expect(projectOfUnit(unit)).toBe("/home/nano/nanoclaw");
    expect(projectOfUnit("[Service]\nExecStart=/usr/bin/node /srv/nc/dist/index.js\nWorkingDirectory=-/elsewhere\n")).toBe("/srv/nc");
  });

  test("how it reads the token: per container, once at start, a OneCLI vault; the running dist/ decides first", () => {
    const runner = { path: "/p/src/container-runner.ts", text: "readEnvFile(['CLAUDE_CODE_OAUTH_TOKEN'])" };
    expect(classifyReads([runner], undefined)).toEqual({ reads: "per-container", from: runner.path });
    const proxy = [
      { path: "/p/src/credential-proxy.ts", text: "const secrets = readEnvFile(['CLAUDE_CODE_OAUTH_TOKEN'])" },
      { path: "/p/src/index.ts", text: "await startCredentialProxy(3001)" },
      { path: "/p/src/container-runner.ts", text: "args.push('-e', 'CLAUDE_CODE_OAUTH_TOKEN=placeholder')" },
    ];
    expect(classifyReads(proxy, undefined)).toEqual({ reads: "at-start", from: "/p/src/credential-proxy.ts" });
    expect(classifyReads([], '{"dependencies":{"@onecli-sh/sdk":"^0.1.6"}}').reads).toBe("onecli");
    // A OneCLI release patched to inject the token again (upstream issue #1850): its runner reads .env per container.
    expect(classifyReads([runner], '{"dependencies":{"@onecli-sh/sdk":"^0.1.6"}}').reads).toBe("per-container");
    const dist = { path: "/p/dist/container-runner.js", text: "readEnvFile([\n 'CLAUDE_CODE_OAUTH_TOKEN'])" };
    expect(classifyReads([runner, dist], undefined).from).toBe(dist.path);
    expect(classifyReads([{ path: "/p/src/index.ts", text: "" }], "{}").reads).toBe("unknown");
  });

  test("a refresher is code that sends the refresh_token grant to a token endpoint; a reader of the login is not", () => {
    const grants = [
      "body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: r }) ... fetch('https://platform.claude.com/v1/oauth/token'",
      'const b = {"grant_type": "refresh_token"}; await post("https://console.anthropic.com/v1/oauth/token", b)',
      "params.set('grant_type', 'refresh_token'); request(TOKEN_URL + '/v1/oauth/token')",
      "const body = `grant_type=refresh_token&refresh_token=${r}`; fetch(`${base}/v1/oauth/token`)",
    ];
    for (const text of grants) expect(refreshEvidence([{ path: "/p/f.ts", text }]).refreshers).toEqual(["/p/f.ts"]);
    const reader = refreshEvidence([{ path: "/p/r.ts", text: "JSON.parse(readFileSync(join(homedir(), '.claude', '.credentials.json')))" }]);
    expect(reader).toEqual({ refreshers: [], credentialsReaders: ["/p/r.ts"] });
    expect(refreshEvidence([{ path: "/p/q.ts", text: "// grant_type: 'refresh_token' is not used here" }]).refreshers).toEqual([]);
  });

  test(".env lines NanoClaw's reader gets wrong are named", () => {
    expect(envFacts("CLAUDE_CODE_OAUTH_TOKEN=x\n")).toEqual({ envToken: true, apiKey: false });
    expect(envFacts("export CLAUDE_CODE_OAUTH_TOKEN=x\n").envLineProblem).toContain("export");
    expect(envFacts("CLAUDE_CODE_OAUTH_TOKEN=x # mine\n").envLineProblem).toContain("comment");
    expect(envFacts("CLAUDE_CODE_OAUTH_TOKEN= # to fill\n").envLineProblem).toBeUndefined();
    expect(envFacts("ANTHROPIC_API_KEY=k\nCLAUDE_CODE_OAUTH_TOKEN=\n")).toEqual({ envToken: false, apiKey: true });
  });
});

describe("detection and proposal on a machine tree", () => {
  test("1.x as a user (its own unit): its .env, owner nano, read per container: env-file, no reload", async () => {
    const { machine, homes } = layout("user-1x", { era: "per-container" });
    const { found, skipped } = await nanoclawInstalls(machine, homes);
    expect(skipped).toEqual([]);
    expect(found).toHaveLength(1);
    const n = found[0]!.value;
    expect(found[0]!.source).toBe("nano's user unit /home/nano/.config/systemd/user/nanoclaw.service");
    expect(n).toMatchObject({ projectDir: "/home/nano/nanoclaw", envFile: "/home/nano/nanoclaw/.env", owner: { user: "nano", uid: NANO.uid }, version: "1.2.11", reads: "per-container", envToken: true, refreshers: [] });
    expect(n.unit).toEqual({ name: "nanoclaw.service", path: "/home/nano/.config/systemd/user/nanoclaw.service", user: "nano" });
    const proposal = proposeNanoClaw(n);
    expect(proposal.targets).toEqual([{ kind: "env-file", path: "/home/nano/nanoclaw/.env", variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: false }]);
    expect(proposal.gateway).toBeUndefined();
    const config = proposeNanoClawConfig([n], LOGIN, { claudeOnHost: true }).config;
    expect(config).toEqual({ credentials: LOGIN.path, targets: proposal.targets, gateway: { kind: "none" }, trigger: { mode: "host" } });
    expect(parseConfig(JSON.stringify(config), "/etc/oauth-sync/config.json").ok).toBe(true);
  });

  test("the credential-proxy releases as root (system unit): reads at start, so the unit is restarted", async () => {
    const { machine, homes } = layout("root-proxy", { era: "credential-proxy", asRoot: true, version: "1.2.20" });
    const [found] = (await nanoclawInstalls(machine, homes)).found;
    expect(found!.value).toMatchObject({ projectDir: "/root/nanoclaw", reads: "at-start", unit: { name: "nanoclaw.service", path: "/etc/systemd/system/nanoclaw.service" } });
    const proposal = proposeNanoClaw(found!.value);
    expect(proposal.targets).toEqual([{ kind: "env-file", path: "/root/nanoclaw/.env", variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: true }]);
    expect(proposal.gateway).toEqual({ kind: "systemd", unit: "nanoclaw.service" });
    expect(proposal.notes.join("\n")).toContain("reads .env once, when it starts");
  });

  test("OneCLI: nothing to write, said why", async () => {
    const { machine, homes } = layout("onecli", { era: "onecli", version: "2.0.64", env: "ONECLI_URL=http://127.0.0.1:10254\n" });
    const [found] = (await nanoclawInstalls(machine, homes)).found;
    const proposal = proposeNanoClaw(found!.value);
    expect(proposal.targets).toEqual([]);
    expect(proposal.notes.join("\n")).toContain("OneCLI vault");
  });

  test("a fork that refreshes the login itself is named as a second refresher", async () => {
    const { machine, homes } = layout("fork", { era: "per-container", refresher: true });
    const [found] = (await nanoclawInstalls(machine, homes)).found;
    expect(found!.value.refreshers).toEqual(["/home/nano/nanoclaw/src/oauth-token.ts"]);
    const notes = proposeNanoClaw(found!.value).notes.join("\n");
    expect(notes).toContain("/home/nano/nanoclaw/src/oauth-token.ts refreshes the Claude login itself");
    expect(notes).toContain("two refreshers");
  });

  test("a unit whose directory holds control characters is skipped and said so, never a reason to fail", async () => {
    const { machine, homes } = layout("odd", { era: "per-container" });
    const odd = join(machine, "etc/systemd/system/nanoclaw-odd.service");
    mkdirSync(join(odd, ".."), { recursive: true });
    writeFileSync(odd, nanoclawUnit("/srv/nano\x1b]0;x\x07claw", "/root", true));
    const { found, skipped } = await nanoclawInstalls(machine, homes);
    expect(found.map((f) => f.value.projectDir)).toEqual(["/home/nano/nanoclaw"]);
    expect(skipped).toHaveLength(1);
    // eslint-disable-next-line no-control-regex
    expect(skipped[0]).not.toMatch(/[\x00-\x1f]/);
  });

  test("beside OpenClaw: its target joins, and a restart it needs does not replace OpenClaw's gateway", () => {
    const openclaw = { config: { credentials: LOGIN.path, targets: [{ kind: "openclaw-cli" }], gateway: { kind: "systemd", unit: "openclaw-gateway.service" }, trigger: { mode: "host" } }, notes: [] };
    const atStart = { projectDir: "/root/nanoclaw", envFile: "/root/nanoclaw/.env", unit: { name: "nanoclaw.service", path: "/etc/systemd/system/nanoclaw.service" }, reads: "at-start" as const, envToken: true, apiKey: false, refreshers: [], credentialsReaders: [] };
    const merged = addNanoClaw(openclaw, [atStart]);
    expect(merged.config.targets).toEqual([{ kind: "openclaw-cli" }, { kind: "env-file", path: "/root/nanoclaw/.env", variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: false }]);
    expect(merged.config.gateway).toEqual(openclaw.config.gateway);
    expect(merged.notes.join("\n")).toContain("restart nanoclaw.service yourself");
  });
});
