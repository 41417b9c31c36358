/**
 * NanoClaw detection and its proposal: reading its files, and the proposal. Detection on machine trees with checkouts
 * owned by their user (chown: root) is in test/integration/nanoclaw-detect.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { classifyReads, envFacts, projectOfUnit, refreshEvidence, unitFacts } from "../../src/detect/nanoclaw.ts";
import { addNanoClaw } from "../../src/install/propose.ts";
import { nanoclawUnit } from "../support/nanoclaw.ts";

const LOGIN = { path: "/home/nano/.claude/.credentials.json", uid: 4242, home: "/home/nano" };

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

describe("the proposal", () => {
  test("beside OpenClaw: its target joins, and a restart it needs does not replace OpenClaw's gateway", () => {
    const openclaw = { config: { credentials: LOGIN.path, targets: [{ kind: "openclaw-cli" }], gateway: { kind: "systemd", unit: "openclaw-gateway.service" }, trigger: { mode: "host" } }, notes: [] };
    const atStart = { projectDir: "/root/nanoclaw", envFile: "/root/nanoclaw/.env", unit: { name: "nanoclaw.service", path: "/etc/systemd/system/nanoclaw.service" }, reads: "at-start" as const, envToken: true, apiKey: false, refreshers: [], credentialsReaders: [] };
    const merged = addNanoClaw(openclaw, [atStart]);
    expect(merged.config.targets).toEqual([{ kind: "openclaw-cli" }, { kind: "env-file", path: "/root/nanoclaw/.env", variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: false }]);
    expect(merged.config.gateway).toEqual(openclaw.config.gateway);
    expect(merged.notes.join("\n")).toContain("restart nanoclaw.service yourself");
  });
});
