import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSandbox, credentialsJson, fakeToken, removeSandbox, type Sandbox } from "../../src/demo/sandbox.ts";
import { run } from "../support/binary.ts";

const HOUR = 3_600_000;
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox("oauth-sync-cli-");
});
afterAll(async () => removeSandbox(sandbox));

describe("the compiled binary", () => {
  test("--version and --help work from any directory with an empty environment, in plain text", async () => {
    const proc = Bun.spawn(["env", "-i", join(import.meta.dir, "../../dist/oauth-sync"), "--version"], { cwd: "/", stdout: "pipe" });
    const version = JSON.parse(await readFile(join(import.meta.dir, "../../package.json"), "utf8")).version;
    expect((await new Response(proc.stdout).text()).trim()).toStartWith(`oauth-sync ${version} (commit `);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const verb of ["watch", "sync", "config", "demo"]) expect(help.stdout).toContain(verb);
    expect(help.stdout).not.toContain("\x1b[");
  });

  test("sync writes every target once and exits 0; a second run changes nothing", async () => {
    const token = fakeToken();
    await writeFile(sandbox.credentials, credentialsJson(token, Date.now() + 8 * HOUR), { mode: 0o600 });
    const first = await run(["sync", "--config", sandbox.configPath]);
    expect(first.code).toBe(0);
    for (const path of Object.values(sandbox.files)) expect(await readFile(path, "utf8")).toContain(token);
    expect(first.output).not.toContain(token);
    const before = await Promise.all(Object.values(sandbox.files).map((p) => stat(p)));
    const second = await run(["sync", "--config", sandbox.configPath, "--verbose"]);
    expect(second.code).toBe(0);
    expect(second.output).toContain("already holds");
    const after = await Promise.all(Object.values(sandbox.files).map((p) => stat(p)));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
  });

  test("an expired or blanked source exits 3, names the file, and touches no target", async () => {
    const snapshot = await Promise.all(Object.values(sandbox.files).map((p) => readFile(p, "utf8")));
    for (const [body, words] of [
      [credentialsJson(fakeToken(), Date.now() - 1000), "expired"],
      [JSON.stringify({ claudeAiOauth: { accessToken: "", refreshToken: "", expiresAt: 0 } }), "blanked login"],
      ["{ half", "not valid JSON"],
    ] as const) {
      await writeFile(sandbox.credentials, body);
      const result = await run(["sync", "--config", sandbox.configPath]);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(sandbox.credentials);
      expect(result.stderr).toContain(words);
      expect(await Promise.all(Object.values(sandbox.files).map((p) => readFile(p, "utf8")))).toEqual(snapshot);
    }
  });

  test("a target that cannot be written fails alone (exit 1); the others are still written", async () => {
    const token = fakeToken();
    await writeFile(sandbox.credentials, credentialsJson(token, Date.now() + 9 * HOUR));
    const broken = join(sandbox.root, "broken.json");
    await writeFile(broken, "not json at all");
    const config = { ...sandbox.config, targets: [...(sandbox.config.targets as object[]), { kind: "openclaw-oauth-json", path: broken }] };
    const configPath = join(sandbox.root, "config-broken.json");
    await writeFile(configPath, JSON.stringify(config));
    const result = await run(["sync", "--config", configPath]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${broken} holds something that is not a JSON object`);
    expect(await readFile(broken, "utf8")).toBe("not json at all");
    for (const path of Object.values(sandbox.files)) expect(await readFile(path, "utf8")).toContain(token);
  });

  test("config check explains every error and exits 2; schema and show print JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "oauth-sync-config-"));
    const bad = join(dir, "config.json");
    await writeFile(bad, JSON.stringify({ credentials: "/x", targets: [{ kind: "openclaw-auth-profiles" }, { kind: "nope", path: "/y" }], colour: 1 }));
    const check = await run(["config", "check", "--config", bad]);
    expect(check.code).toBe(2);
    expect(check.stdout).toContain("targets[0].path");
    expect(check.stdout).toContain("targets[1].kind");
    expect(check.stdout).toContain("colour: unknown key");
    const env = await run(["config", "check"], { OAUTH_SYNC_CONFIG: sandbox.configPath });
    expect(env.code).toBe(0);
    expect(env.stdout).toContain("ok (3 target(s)");
    const schema = JSON.parse((await run(["config", "schema"])).stdout);
    expect(schema.properties.targets.type).toBe("array");
    const shown = JSON.parse((await run(["config", "show", "--config", sandbox.configPath])).stdout);
    expect(shown.targets[0].profileId).toBe("anthropic:default");
    expect(shown.gateway).toEqual({ kind: "none" });
    await rm(dir, { recursive: true });
  });

  test("the demo runs end to end", async () => {
    const demo = await run(["demo", "--rotations", "3"]);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/rotation 3: token [0-9a-f]{12} reached all 3 targets/);
    expect(demo.stdout).not.toMatch(/sk-ant-oat01-[A-Za-z0-9_-]{20}/);
  });
});
