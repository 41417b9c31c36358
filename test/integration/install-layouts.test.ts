/**
 * `install --dry-run --yes` through the compiled binary on the layouts people really run, each made from OpenClaw's
 * own files: real 2026.9.6 state (`openclaw onboard --non-interactive`, `openclaw agents add`, `--profile`), the
 * upstream compose file with the `.env`/extra file its setup.sh writes, an override file, and upstream's Podman
 * Quadlet. Then a real sync through the proposed config, checked per agent with `openclaw models status --agent`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createServer } from "node:net";
import { credentialsJson } from "../../src/demo/sandbox.ts";
import { DOCKER_BED_ENV, ensureDockerBed } from "../bed/docker.ts";
import { ensureNode26, ensureOpenClaw, fakeToken, parseJsonOutput, prepareHome, runOpenClaw } from "../bed/openclaw.ts";
import { run as runBinary } from "../support/binary.ts";
import { upstreamProject } from "../support/upstream-compose.ts";
import { waitUntil } from "../support/wait.ts";

const VERSION = "2026.9.6";
const HOUR = 3_600_000;
let base: string;
let twoAgents: string; // a home with ~/.openclaw: agents main and work
let pathEnv: string;
let openclawBin: string;

const onboard = (home: string, ...pre: string[]) =>
  runOpenClaw(VERSION, home, [...pre, "onboard", "--non-interactive", "--accept-risk", "--auth-choice", "token", "--token-provider", "anthropic", "--token", fakeToken(), "--token-expires-in", "8h", "--skip-daemon", "--skip-health", "--skip-channels", "--skip-skills", "--skip-search", "--skip-ui", "--skip-hooks"]);

beforeAll(async () => {
  await ensureDockerBed();
  const bed = await ensureOpenClaw(VERSION);
  openclawBin = bed.bin;
  pathEnv = `${dirname(bed.bin)}:${bed.pathEnv}`;
  base = await mkdtemp(join(tmpdir(), "oauth-sync-layouts-"));
  twoAgents = join(base, "ana");
  await mkdir(twoAgents, { recursive: true });
  await prepareHome(VERSION, twoAgents);
  const made = await onboard(twoAgents);
  expect(made.code, made.stderr).toBe(0);
  const added = await runOpenClaw(VERSION, twoAgents, ["agents", "add", "work", "--non-interactive", "--workspace", join(twoAgents, ".openclaw/workspace-work"), "--model", "anthropic/claude-sonnet-4-5"]);
  expect(added.code, added.stderr).toBe(0);
  await writeFile(join(twoAgents, ".credentials.json"), credentialsJson(fakeToken(), Date.now() + 8 * HOUR), { mode: 0o600 });
}, 900_000);

afterAll(() => rm(base, { recursive: true, force: true }), 120_000);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** Run `install --dry-run --yes` with this HOME and flags; the proposed config parsed from its output. */
async function dryRun(home: string, ...flags: string[]) {
  const result = await runBinary(["install", "--dry-run", "--yes", "--trigger", "none", "--credentials", join(twoAgents, ".credentials.json"), ...flags], { HOME: home, PATH: `${pathEnv}:${process.env.PATH}`, ...DOCKER_BED_ENV });
  const at = result.stdout.indexOf("config to install:\n");
  const end = result.stdout.indexOf("\n}\n", at);
  const config = at >= 0 ? JSON.parse(result.stdout.slice(at + "config to install:\n".length, end + 2)) : undefined;
  expect(result.output).not.toContain("sk-ant-");
  return { ...result, config };
}

describe("install --dry-run --yes on OpenClaw's own layouts", () => {
  test("upstream compose (nested defaults) in /opt-like dir with setup.sh's .env and extra file → every file passed, one paste per agent", async () => {
    const project = join(base, "opt/openclaw");
    await upstreamProject(project, "nested", { configDir: join(twoAgents, ".openclaw"), workspaceDir: join(twoAgents, ".openclaw/workspace"), homeVolume: "openclaw-home" });
    const dry = await dryRun(join(base, "nobody"), "--project-dir", project);
    expect(dry.code, dry.output).toBe(0);
    const files = ["-f", join(project, "docker-compose.yml"), "-f", join(project, "docker-compose.extra.yml")];
    // The CLI as upstream's own compose runs it in the image (`node dist/index.js`), not an `openclaw` on PATH.
    const command = ["docker", "compose", ...files, "exec", "-T", "openclaw-gateway", "node", "dist/index.js"];
    expect(dry.config.targets).toEqual([
      { kind: "openclaw-cli", command, agent: "main" },
      { kind: "openclaw-cli", command, agent: "work" },
    ]);
    expect(dry.config.gateway).toEqual({ kind: "compose", projectDir: project, files: [files[1], files[3]], service: "openclaw-gateway" });
    expect(dry.stdout).toContain("docker compose config");
    expect(dry.stdout).toContain("agents main, work (from openclaw.json)");
  }, 120_000);

  test("upstream compose without .env in a home dir: the state is that home's ~/.openclaw; an override moving it elsewhere is reported missing", async () => {
    const home = join(base, "bob");
    await cp(join(twoAgents, ".openclaw"), join(home, ".openclaw"), { recursive: true, verbatimSymlinks: true });
    const project = join(home, "openclaw");
    await upstreamProject(project, "nested", undefined);
    const dry = await dryRun(home, "--project-dir", project);
    expect(dry.code, dry.output).toBe(0);
    expect(dry.stdout).toContain(`state ${join(home, ".openclaw")},`);
    expect(dry.config.targets.map((t: { agent: string }) => t.agent)).toEqual(["main", "work"]);
    // Compose run by oauth-sync as root would read HOME=/root: said, with the fix.
    expect(dry.output).toContain(`the state mount follows HOME (${join(home, ".openclaw")} for ${home}, /root/.openclaw for root)`);

    await writeFile(join(project, "docker-compose.override.yml"), "services:\n  openclaw-gateway:\n    volumes:\n      - ./state:/home/node/.openclaw\n");
    const moved = await dryRun(home, "--project-dir", project);
    expect(moved.stdout).toContain(`missing: ${join(project, "state")} does not exist`);
    expect(moved.config.gateway.files).toEqual([join(project, "docker-compose.yml"), join(project, "docker-compose.override.yml")]);
  }, 120_000);

  test("native, two agents: openclaw with the owner's HOME, --agent for each", async () => {
    const dry = await dryRun(twoAgents, "--openclaw-dir", join(twoAgents, ".openclaw"));
    expect(dry.code, dry.output).toBe(0);
    expect(dry.config.targets).toEqual([
      { kind: "openclaw-cli", command: ["openclaw"], agent: "main", env: { HOME: twoAgents } },
      { kind: "openclaw-cli", command: ["openclaw"], agent: "work", env: { HOME: twoAgents } },
    ]);
    expect(dry.output).toContain("native install without a gateway unit");
  }, 120_000);

  test("a named profile (~/.openclaw-work, openclaw --profile work) with its gateway unit", async () => {
    const home = join(base, "carol");
    await mkdir(home, { recursive: true });
    await prepareHome(VERSION, home);
    const made = await onboard(home, "--profile", "work");
    expect(made.code, made.stderr).toBe(0);
    await mkdir(join(home, ".config/systemd/user"), { recursive: true });
    // The unit name OpenClaw gives a profile's gateway; its ExecStart runs node on OpenClaw's entry, quoted, as
    // `openclaw gateway install` writes it (a node that is not on root's PATH, like an nvm one).
    const node = join(await ensureNode26(), "node");
    const entry = join(dirname(dirname(openclawBin)), "openclaw/dist/index.js");
    await writeFile(join(home, ".config/systemd/user/openclaw-gateway-work.service"), `[Unit]\nDescription=OpenClaw Gateway (profile work)\n\n[Service]\nExecStart="${node}" "${entry}" --profile work gateway --port 18790\n`);
    const dry = await dryRun(home, "--openclaw-dir", join(home, ".openclaw-work"));
    expect(dry.code, dry.output).toBe(0);
    const env = { HOME: home, PATH: `${dirname(node)}:/usr/local/bin:/usr/bin:/bin` };
    expect(dry.config.targets).toEqual([{ kind: "openclaw-cli", command: [node, entry, "--profile", "work"], env }]);
    expect(dry.config.gateway).toEqual({ kind: "systemd", unit: "openclaw-gateway-work.service", user: "carol" });
    expect(dry.stdout).toContain("profile work");
    expect(dry.output).not.toContain("without a gateway unit");

    // A real sync through it, from a PATH without node or openclaw: the token lands in the profile's store.
    const token = fakeToken();
    await writeFile(join(home, "credentials.json"), credentialsJson(token, Date.now() + 8 * HOUR), { mode: 0o600 });
    await writeFile(join(home, "sync.json"), JSON.stringify({ ...dry.config, credentials: join(home, "credentials.json"), stateDir: join(home, "sync-state"), gateway: { kind: "none" } }));
    const sync = await runBinary(["sync", "--config", join(home, "sync.json")], { PATH: "/usr/bin:/bin" });
    expect(sync.code, sync.output).toBe(0);
    const status = await runOpenClaw(VERSION, home, ["--profile", "work", "models", "status", "--json"]);
    const anthropic = parseJsonOutput(status.stdout).auth.providers.find((p: { provider: string }) => p.provider === "anthropic");
    expect(JSON.stringify(anthropic.profiles.labels)).toContain(token.slice(-8));
  }, 120_000);

  test("a Podman Quadlet (upstream openclaw.container.in) → podman exec as the user, the user unit openclaw.service", async () => {
    const home = join(base, "dave");
    await cp(join(twoAgents, ".openclaw"), join(home, ".openclaw"), { recursive: true, verbatimSymlinks: true });
    const template = await readFile(join(import.meta.dir, "../fixtures/openclaw-upstream/openclaw.container.daa6939e.in"), "utf8");
    await mkdir(join(home, ".config/containers/systemd"), { recursive: true });
    await writeFile(join(home, ".config/containers/systemd/openclaw.container"), template.replaceAll("{{OPENCLAW_HOME}}", home));
    const dry = await dryRun(home, "--openclaw-dir", join(home, ".openclaw"));
    expect(dry.code, dry.output).toBe(0);
    expect(dry.stdout).toContain("Podman Quadlet, container openclaw");
    expect(dry.config.targets[0]).toMatchObject({ kind: "openclaw-cli", command: ["podman", "exec", "-i", "openclaw", "node", "dist/index.js"], agent: "main" });
    expect(dry.config.gateway).toEqual({ kind: "systemd", unit: "openclaw.service", user: "dave" });
  }, 120_000);

  test("an agent on the Claude CLI runtime gets no target, and detection says why", async () => {
    const home = join(base, "erin");
    await cp(join(twoAgents, ".openclaw"), join(home, ".openclaw"), { recursive: true, verbatimSymlinks: true });
    const set = await runOpenClaw(VERSION, home, ["config", "set", "agents.entries.work.models", JSON.stringify({ "anthropic/claude-sonnet-4-5": { agentRuntime: { id: "claude-cli" } } }), "--strict-json"]);
    expect(set.code, set.stderr).toBe(0);
    const dry = await dryRun(home, "--openclaw-dir", join(home, ".openclaw"));
    expect(dry.code, dry.output).toBe(0);
    expect(dry.output).toContain("agent(s) work run on the Claude CLI runtime");
    expect(dry.config.targets.map((t: { agent: string }) => t.agent)).toEqual(["main"]);
  }, 120_000);
});

describe("choosing between installs", () => {
  test("two equally good installs (~/.openclaw and ~/.openclaw-work): --yes refuses and names the flag; the flag settles it", async () => {
    const home = join(base, "gina");
    await mkdir(home, { recursive: true });
    await prepareHome(VERSION, home);
    for (const pre of [[], ["--profile", "work"]]) {
      const made = await onboard(home, ...pre);
      expect(made.code, made.stderr).toBe(0);
    }
    const tie = await dryRun(home);
    expect(tie.code).not.toBe(0);
    expect(tie.output).toContain("two OpenClaw installs are equally likely");
    expect(tie.output).toMatch(new RegExp(`pass --openclaw-dir ${join(home, ".openclaw")}(-work)? or --openclaw-dir ${join(home, ".openclaw")}(-work)?`));
    const settled = await dryRun(home, "--openclaw-dir", join(home, ".openclaw-work"));
    expect(settled.code, settled.output).toBe(0);
    expect(settled.config.targets[0].command).toEqual(["openclaw", "--profile", "work"]);

    // A running gateway is evidence: the profile whose gateway runs wins without a flag.
    const port = await freePort();
    const gateway = Bun.spawn([openclawBin, "--profile", "work", "gateway", "--bind", "loopback", "--port", String(port), "--allow-unconfigured"], {
      env: { PATH: pathEnv, HOME: home },
      cwd: home,
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      // Until it answers HTTP: by then 2026.9 has renamed its process `openclaw-gateway` and holds its store open.
      const answers = () => fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
      await waitUntil("the gateway to answer HTTP", answers, { timeoutMs: 60_000, intervalMs: 250, onTimeout: "continue" });
      const chosen = await dryRun(home);
      expect(chosen.code, chosen.output).toBe(0);
      expect(chosen.stdout).toContain("+4 running gateway");
      expect(chosen.config.targets[0].command).toEqual(["openclaw", "--profile", "work"]);
    } finally {
      gateway.kill("SIGKILL");
      await gateway.exited;
    }
  }, 180_000);
});

describe("a long-lived token in OpenClaw", () => {
  test("reported at detection with its expiry and the way to replace it", async () => {
    const home = join(base, "frank");
    await mkdir(home, { recursive: true });
    await prepareHome(VERSION, home);
    const made = await runOpenClaw(VERSION, home, ["onboard", "--non-interactive", "--accept-risk", "--auth-choice", "token", "--token-provider", "anthropic", "--token", fakeToken(), "--token-expires-in", "8760h", "--skip-daemon", "--skip-health", "--skip-channels", "--skip-skills", "--skip-search", "--skip-ui", "--skip-hooks"]);
    expect(made.code, made.stderr).toBe(0);
    const dry = await dryRun(home, "--openclaw-dir", join(home, ".openclaw"));
    expect(dry.code, dry.output).toBe(0);
    expect(dry.output).toContain("holds a long-lived Anthropic token (expires");
    expect(dry.output).toContain('"replaceNewer": true');
    // The 8-hour login of the other layouts is not reported.
    expect((await dryRun(twoAgents, "--openclaw-dir", join(twoAgents, ".openclaw"))).output).not.toContain("long-lived");
  }, 180_000);
});

describe("a real sync through the proposed config, two agents on 2026.9.6", () => {
  test("each agent's store holds the token afterwards (openclaw models status --json --agent ID)", async () => {
    const dry = await dryRun(twoAgents, "--openclaw-dir", join(twoAgents, ".openclaw"));
    const token = fakeToken();
    const credentials = join(base, "sync-credentials.json");
    await writeFile(credentials, credentialsJson(token, Date.now() + 8 * HOUR), { mode: 0o600 });
    const config = join(base, "sync-config.json");
    await writeFile(config, JSON.stringify({ ...dry.config, credentials, stateDir: join(base, "sync-state"), gateway: { kind: "none" } }));
    const sync = await runBinary(["sync", "--config", config], { PATH: `${pathEnv}:${process.env.PATH}` });
    expect(sync.code, sync.output).toBe(0);
    expect(sync.output).not.toContain(token);
    for (const agent of ["main", "work"]) {
      const status = await runOpenClaw(VERSION, twoAgents, ["models", "status", "--json", "--agent", agent]);
      expect(status.code, status.stderr).toBe(0);
      const anthropic = parseJsonOutput(status.stdout).auth.providers.find((p: { provider: string }) => p.provider === "anthropic");
      expect({ agent, labels: JSON.stringify(anthropic.profiles.labels) }).toEqual({ agent, labels: expect.stringContaining(token.slice(-8)) });
    }
    // `status` asks OpenClaw about each agent's store.
    const status = await runBinary(["status", "--config", config], { PATH: `${pathEnv}:${process.env.PATH}` });
    expect(status.output).toMatch(/openclaw {2}openclaw \(agent main\): token profile (ok|expiring)/);
    expect(status.output).toMatch(/openclaw {2}openclaw \(agent work\): token profile (ok|expiring)/);
    expect(status.output).not.toContain(token);
  }, 300_000);
});
