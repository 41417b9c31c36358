import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig, parseConfig, type ConfigResult } from "../../src/config/load.ts";
import { defaultStateDir } from "../../src/config/defaults.ts";
import { tempDirs } from "../support/temp.ts";

const temp = tempDirs();

const CONFIG = "/etc/oauth-sync/config.json";
const text = (value: unknown) => JSON.stringify(value);

function ok(result: ConfigResult) {
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.errors.join("; ")}`);
  return result.config;
}
function errors(result: ConfigResult): string[] {
  if (result.ok) throw new Error("expected config errors, got a valid config");
  expect(result.errors.length).toBeGreaterThan(0);
  return result.errors;
}

describe("parseConfig: defaults", () => {
  test("a minimal config gets every default", () => {
    const config = ok(
      parseConfig(
        text({
          targets: [
            { kind: "openclaw-auth-profiles", path: "/srv/oc/auth-profiles.json" },
            { kind: "openclaw-oauth-json", path: "/srv/oc/oauth.json" },
            { kind: "env-file", path: "/srv/oc/.env" },
            { kind: "openclaw-cli" },
          ],
        }),
        CONFIG,
      ),
    );
    expect(config.credentials).toBe(join(homedir(), ".claude/.credentials.json"));
    expect(config.gateway).toEqual({ kind: "none" });
    expect(config.stateDir).toBe(defaultStateDir());
    expect(config.stateDir).toBe(process.getuid?.() === 0 ? "/var/lib/oauth-sync" : config.stateDir);
    expect(config.watch).toEqual({ quietMs: 0, maxDelayMs: 500, reconcileSeconds: 1800, expiryChecksSeconds: [180, 60], retrySeconds: 30 });
    expect(config.targets).toEqual([
      { kind: "openclaw-auth-profiles", path: "/srv/oc/auth-profiles.json", profileId: "anthropic:default", credentialType: "token", reload: true, replaceNewer: false, write: "atomic" },
      { kind: "openclaw-oauth-json", path: "/srv/oc/oauth.json", provider: "anthropic", reload: true, replaceNewer: false, write: "atomic" },
      { kind: "env-file", path: "/srv/oc/.env", variable: "ANTHROPIC_OAUTH_TOKEN", reload: true, replaceNewer: false, write: "atomic" },
      { kind: "openclaw-cli", command: ["openclaw"], profileId: "anthropic:default", env: {}, timeoutSeconds: 120, reload: false, replaceNewer: false },
    ]);
  });

  test("a partial watch section keeps the other defaults; given values win", () => {
    const config = ok(parseConfig(text({ targets: [{ kind: "env-file", path: "/x/.env" }], watch: { quietMs: 50 }, stateDir: "/s" }), CONFIG));
    expect(config.watch).toEqual({ quietMs: 50, maxDelayMs: 500, reconcileSeconds: 1800, expiryChecksSeconds: [180, 60], retrySeconds: 30 });
    expect(config.stateDir).toBe("/s");
  });
  test("sections given empty or without their kind get the schema's defaults, as when left out", () => {
    const base = { targets: [{ kind: "env-file", path: "/x/.env" }], stateDir: "/s" };
    const omitted = ok(parseConfig(text(base), CONFIG));
    const empty = ok(parseConfig(text({ ...base, gateway: {}, trigger: {}, watch: {}, refresh: {}, notify: {} }), CONFIG));
    expect(empty).toEqual(omitted);
    expect(omitted.trigger).toEqual({ mode: "host", command: "auth-status", claude: "claude", timeoutSeconds: 60, env: {} });
    expect(omitted.refresh).toEqual({ windowSeconds: 240, retrySeconds: 30, slowRetrySeconds: 300, slowAfterSeconds: 3600, confirmTries: 3 });
    expect(omitted.notify).toEqual({ webhooks: [], timeoutSeconds: 10, retries: 2, reminderHours: 4, failureThreshold: 3 });
    const user = ok(parseConfig(text({ ...base, trigger: { user: "alice" } }), CONFIG));
    expect(user.trigger).toMatchObject({ mode: "host", user: "alice", claude: "claude" });
  });
});

describe("parseConfig: paths", () => {
  test("relative paths are resolved against the config file's directory", () => {
    const config = ok(
      parseConfig(
        text({
          credentials: "claude/.credentials.json",
          stateDir: "./state",
          targets: [
            { kind: "openclaw-auth-profiles", path: "oc/agents/main/agent/auth-profiles.json" },
            { kind: "env-file", path: "../compose/.env" },
            { kind: "openclaw-oauth-json", path: "/abs/oauth.json" },
          ],
        }),
        "/srv/oauth-sync/config.json",
      ),
    );
    expect(config.credentials).toBe("/srv/oauth-sync/claude/.credentials.json");
    expect(config.stateDir).toBe("/srv/oauth-sync/state");
    expect(config.targets.map((t) => ("path" in t ? t.path : undefined))).toEqual([
      "/srv/oauth-sync/oc/agents/main/agent/auth-profiles.json",
      "/srv/compose/.env",
      "/abs/oauth.json",
    ]);
  });

  test("a relative config path is itself taken from the working directory", () => {
    const config = ok(parseConfig(text({ targets: [{ kind: "env-file", path: ".env" }] }), "conf/config.json"));
    expect(config.targets[0]).toMatchObject({ path: resolve("conf/.env") });
  });

  test("`~` is expanded against HOME (checked in a process started with another HOME)", () => {
    const home = temp("oauth-sync-fake-home-"); // bun keeps its cache under HOME/.bun: removed after the file
    const script = `
      import { parseConfig } from ${JSON.stringify(resolve(import.meta.dir, "../../src/config/load.ts"))};
      const result = parseConfig(JSON.stringify({
        credentials: "~/.claude/.credentials.json",
        stateDir: "~",
        targets: [{ kind: "env-file", path: "~/openclaw/.env" }],
      }), "/etc/oauth-sync/config.json");
      console.log(JSON.stringify(result.ok ? { credentials: result.config.credentials, stateDir: result.config.stateDir, path: result.config.targets[0].path } : result));
    `;
    const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home } });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ credentials: `${home}/.claude/.credentials.json`, stateDir: home, path: `${home}/openclaw/.env` });
  });

  test("`~user` and `a~b` are not home paths", () => {
    const config = ok(parseConfig(text({ targets: [{ kind: "env-file", path: "~other/.env" }, { kind: "env-file", path: "a~b/.env" }] }), CONFIG));
    expect(config.targets.map((t) => ("path" in t ? t.path : ""))).toEqual(["/etc/oauth-sync/~other/.env", "/etc/oauth-sync/a~b/.env"]);
  });
});

describe("parseConfig: errors, each explained with where it is", () => {
  /** The error lines without their `FILE:LINE:COLUMN: ` (tested on its own below). */
  const bare = (result: ConfigResult) => errors(result).map((e) => e.replace(/^[^:]+:\d+:\d+: /, ""));

  test("an unknown target kind, with the closest one", () => {
    const [error, ...rest] = bare(parseConfig(text({ targets: [{ kind: "openclaw-sqlite", path: "/x" }] }), CONFIG));
    expect(rest).toEqual([]);
    expect(error).toStartWith('targets[0].kind: "openclaw-sqlite" is not one of "openclaw-auth-profiles", ');
    const [typo, ...others] = bare(parseConfig(text({ targets: [{ kind: "env-fil", path: "/x" }] }), CONFIG));
    expect(others).toEqual([]);
    expect(typo).toMatch(/^targets\[0\]\.kind: "env-fil" is not one of "openclaw-auth-profiles", (?:"[a-z-]+", )*"[a-z-]+" \(did you mean "env-file"\?\)$/);
    for (const kind of ["openclaw-oauth-json", "env-file", "openclaw-cli", "ssh"]) expect(typo).toContain(`"${kind}"`);
  });

  test("an unknown key, at the top and in a target, with the closest one", () => {
    const all = bare(parseConfig(text({ targtes: [], targets: [{ kind: "env-file", path: "/x", varible: "X" }] }), CONFIG));
    expect(all).toEqual(['targtes: unknown key (did you mean "targets"?)', 'targets[0].varible: unknown key (did you mean "variable"?)']);
  });

  test("a misspelt required key is one line, not a missing key plus an unknown one", () => {
    expect(bare(parseConfig(text({ target: [{ kind: "env-file", path: "/x" }] }), CONFIG))).toEqual(['target: unknown key (did you mean "targets"?)']);
  });

  test("an unknown key nothing is close to lists the keys there", () => {
    const [error] = bare(parseConfig(text({ targets: [{ kind: "env-file", path: "/x" }], watch: { zzz: 1 } }), CONFIG));
    expect(error).toStartWith('watch.zzz: unknown key: the keys here are "quietMs", "maxDelayMs", ');
  });

  test("null (accepted by an older release) is migrated where there is a default (src/config/migrate.ts); where there is none it says what to give", () => {
    const migrated = parseConfig(text({ targets: [{ kind: "env-file", path: "/x" }], gateway: null }), CONFIG);
    expect(migrated.ok && migrated.notes).toEqual(['gateway: null removed (earlier releases read null as "the default", which applies now too: delete the line)']);
    expect(bare(parseConfig(text({ targets: null }), CONFIG))).toEqual(["targets: null is not accepted here (array expected): give an array"]);
  });

  test("a target without its kind", () => {
    const [error] = bare(parseConfig(text({ targets: [{ path: "/x" }] }), CONFIG));
    expect(error).toStartWith('targets[0]: "kind" is missing: one of "openclaw-auth-profiles"');
  });

  test("a file target without a path", () => {
    const all = bare(parseConfig(text({ targets: [{ kind: "env-file", path: "/ok" }, { kind: "openclaw-auth-profiles" }] }), CONFIG));
    expect(all).toHaveLength(1);
    expect(all[0]).toStartWith("targets[1].path:");
    expect(all[0]).toContain("missing");
  });

  test("a bad credentialType names the value and the choices", () => {
    const [error] = bare(parseConfig(text({ targets: [{ kind: "openclaw-auth-profiles", path: "/x", credentialType: "bearer" }] }), CONFIG));
    expect(error).toStartWith("targets[0].credentialType:");
    expect(error).toContain('"bearer"');
    for (const choice of ["token", "oauth", "api_key"]) expect(error).toContain(choice);
  });

  test("a bad variable name", () => {
    const [error] = bare(parseConfig(text({ targets: [{ kind: "env-file", path: "/x", variable: "1-BAD" }] }), CONFIG));
    expect(error).toStartWith("targets[0].variable:");
    expect(error).toContain("valid environment variable name");
  });

  test("each error names the file, the line and the column of the value, or of the key for an unknown key", () => {
    const file = ['{', '  "credentials": "/c",', '  "targets": [', '    { "kind": "env-fil", "path": "/x" }', '  ],', '  "watch": { "quietMs": -1, "reconcileSecond": 3 }', '}'].join("\n");
    const all = errors(parseConfig(file, CONFIG));
    expect(all[0]).toStartWith(`${CONFIG}:4:15: targets[0].kind: "env-fil" is not one of "openclaw-auth-profiles", `);
    expect(all.slice(1)).toEqual([
      `${CONFIG}:6:25: watch.quietMs: Too small: expected number to be >=0 (got -1)`,
      `${CONFIG}:6:29: watch.reconcileSecond: unknown key (did you mean "reconcileSeconds"?)`,
    ]);
  });

  test("invalid JSON: the file, line and column, and what to do", () => {
    expect(errors(parseConfig('{"targets": [', "/etc/oauth-sync/broken.json"))).toEqual(["/etc/oauth-sync/broken.json:1:14: not valid JSON: the file ends inside the list opened at line 1: a ] is missing"]);
    expect(errors(parseConfig('{\n  "credentials": "/c",\n  "targets": [],\n}\n', CONFIG))).toEqual([`${CONFIG}:3:16: not valid JSON: a comma before } (a trailing comma): remove it`]);
  });

  test("a UTF-8 byte order mark is accepted", () => {
    expect(ok(parseConfig(`\uFEFF${text({ targets: [{ kind: "env-file", path: "/x" }] })}`, CONFIG)).targets).toHaveLength(1);
  });

  test("JSON that is not an object, naming the file", () => {
    for (const value of ["[]", "null", "3"]) {
      expect(errors(parseConfig(value, CONFIG))).toEqual([`${CONFIG}:1:1: the file must hold a JSON object ({ … })`]);
    }
  });

  test("no targets, or an empty list", () => {
    expect(bare(parseConfig(text({ targets: [] }), CONFIG))).toEqual(["targets: list at least one target (got [])"]);
    const [missing] = bare(parseConfig(text({}), CONFIG));
    expect(missing).toStartWith("targets:");
    expect(missing).toContain("missing");
  });

  test("several errors are all reported", () => {
    const all = bare(parseConfig(text({ targets: [{ kind: "env-file" }, { kind: "openclaw-auth-profiles", path: "/x", credentialType: 1 }], watch: { quietMs: -1 } }), CONFIG));
    expect(all.some((e) => e.startsWith("targets[0].path:"))).toBe(true);
    expect(all.some((e) => e.startsWith("targets[1].credentialType:"))).toBe(true);
    expect(all.some((e) => e.startsWith("watch.quietMs:"))).toBe(true);
  });
});

describe("loadConfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "oauth-sync-config-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a missing file: the path, the reason and what to do", async () => {
    const path = join(dir, "absent.json");
    const result = await loadConfig(path);
    const [error] = errors(result);
    expect(error).toContain(path);
    expect(error).toContain("ENOENT");
    expect(error).toContain("--config");
  });

  test("a file on disk: paths relative to its own directory", async () => {
    const path = join(dir, "config.json");
    await writeFile(path, text({ targets: [{ kind: "env-file", path: "openclaw/.env" }] }));
    const config = ok(await loadConfig(path));
    expect(config.targets[0]).toMatchObject({ path: join(dir, "openclaw/.env") });
  });
});
