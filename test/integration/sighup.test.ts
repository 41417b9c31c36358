import { afterAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken, type Sandbox } from "../../src/demo/sandbox.ts";
import { run, start, type Running } from "../support/binary.ts";
import { waitUntil } from "../support/wait.ts";

/**
 * SIGHUP applies the whole new config: `watch` stops its service and builds it anew from the config, in the same
 * process. For every setting in the config's schema, one running service is sent a config with that setting
 * changed; it must start again under the same pid with exactly that config in force (its start line names the
 * digest `config check` gives for the file), and without leaking descriptors or children over all the reloads.
 */

const HOUR = 3_600_000;
let sandbox: Sandbox | undefined;
let watcher: Running | undefined;

afterAll(async () => {
  await watcher?.stop();
  if (sandbox) await removeSandbox(sandbox);
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** Configs that between them set every field of every kind of target, gateway and trigger. */
function variants(s: Sandbox): Obj[] {
  const root = s.root;
  const base = s.config as unknown as Obj;
  const files = {
    targets: [
      { kind: "openclaw-auth-profiles", name: "profiles", path: s.files.authProfiles, profileId: "anthropic:default", reload: true, replaceNewer: false, credentialType: "token", write: "atomic" },
      { kind: "openclaw-oauth-json", name: "oauth", path: s.files.oauthJson, provider: "anthropic", reload: false, replaceNewer: false, write: "atomic" },
      { kind: "env-file", name: "env", path: s.files.envFile, variable: "ANTHROPIC_OAUTH_TOKEN", reload: true, replaceNewer: false, write: "atomic" },
    ],
  } as Obj;
  const everyTarget: Json[] = [
    ...(files.targets as Json[]),
    { kind: "json-file", name: "json", path: join(root, "consumer.json"), tokenPointer: "/anthropic/token", expiresAtPointer: "/anthropic/expires", expiresAtFormat: "ms", reload: false, replaceNewer: false, write: "atomic" },
    { kind: "exec", name: "exec", command: ["/bin/true", "store"], user: "root", fields: ["accessToken", "expiresAt"], env: { D: "4" }, writes: [join(root, "store")], timeoutSeconds: 5, reload: false, replaceNewer: false },
    { kind: "openclaw-cli", name: "cli", command: ["/bin/false"], profileId: "anthropic:default", agent: "main", env: { A: "1" }, user: "root", timeoutSeconds: 5, reload: false, replaceNewer: false },
    {
      kind: "ssh",
      name: "far",
      host: "127.0.0.9",
      port: 2222,
      user: "sync",
      identityFile: join(root, "id"),
      knownHostsFile: join(root, "known_hosts"),
      command: "oauth-sync receive",
      connectTimeoutSeconds: 1,
      timeoutSeconds: 2,
      options: { ServerAliveInterval: "5" },
    },
  ];
  const settings = {
    $schema: "https://example.invalid/oauth-sync.schema.json",
    stateDir: join(root, "state"),
    watch: { quietMs: 0, maxDelayMs: 500, reconcileSeconds: 1800, expiryChecksSeconds: [180, 60], retrySeconds: 30 },
    refresh: { windowSeconds: 240, retrySeconds: 30, slowRetrySeconds: 300, slowAfterSeconds: 3600, confirmTries: 3, flagFile: join(root, "REAUTH_NEEDED") },
    notify: { webhooks: [{ url: "http://127.0.0.1:9/hook", format: "json", name: "ops" }], timeoutSeconds: 2, retries: 1, reminderHours: 24, failureThreshold: 3, host: "box" },
  };
  const claude = { command: "auth-status", claude: "/bin/false", user: "root", timeoutSeconds: 5, env: { B: "2" } };
  return [
    {
      ...base,
      ...settings,
      targets: everyTarget,
      gateway: { kind: "command", command: ["/bin/true"], env: { C: "3" }, timeoutSeconds: 5, settleSeconds: 0 },
      trigger: { mode: "host", ...claude, home: "/root", configDir: join(root, "claude") },
    },
    {
      ...base,
      ...files,
      gateway: { kind: "compose", projectDir: root, files: [join(root, "compose.yml")], service: "openclaw-gateway", strategy: "recreate", docker: "/bin/false", timeoutSeconds: 5, settleSeconds: 1 },
      trigger: { mode: "container", ...claude, container: "openclaw", docker: "/bin/false", baseUrlOverride: false },
    },
    {
      ...base,
      ...files,
      gateway: { kind: "systemd", unit: "openclaw-gateway.service", user: "root", timeoutSeconds: 5, settleSeconds: 1 },
      trigger: { mode: "direct", attempts: 2, timeoutSeconds: 5, lockStaleSeconds: 10, lockWaitSeconds: 5 },
    },
    { ...base, ...files, gateway: { kind: "signal", signal: "SIGUSR1", pidFile: join(root, "gateway.pid"), timeoutSeconds: 5, settleSeconds: 1 }, trigger: { mode: "none" } },
    { ...base, ...files, gateway: { kind: "signal", signal: "SIGUSR2", unit: "openclaw-gateway.service", timeoutSeconds: 5, settleSeconds: 1 }, trigger: { mode: "none" } },
  ];
}

/** A field's name the way the schema's walk below names it: unions by their kind or mode. */
function fieldPath(parent: string, key: string, owner: Obj): string {
  const tag = typeof owner.kind === "string" ? owner.kind : typeof owner.mode === "string" ? owner.mode : undefined;
  return tag && /^(targets|gateway|trigger)$/.test(parent.replace(/\[\]$/, "")) ? `${parent.replace(/\[\]$/, "")}[${tag}].${key}` : `${parent}.${key}`;
}

/** Every settable field in `config`, with a changed value that is still valid. */
function* changes(config: Obj): Generator<{ path: string; apply: (copy: Obj) => void }> {
  function* walk(node: Obj, parent: string, locate: (copy: Obj) => Obj): Generator<{ path: string; apply: (copy: Obj) => void }> {
    for (const [key, value] of Object.entries(node)) {
      if (key === "kind" || key === "mode" || key === "source") continue;
      const path = parent ? fieldPath(parent, key, node) : key;
      if (Array.isArray(value) && value.length > 0 && typeof value[0] === "object") {
        for (let i = 0; i < value.length; i++) yield* walk(value[i] as Obj, `${path}[]`, (copy) => (locate(copy)[key] as Obj[])[i]!);
        continue;
      }
      if (value !== null && typeof value === "object" && !Array.isArray(value) && !/\.(env|options)$/.test(path)) {
        yield* walk(value, path, (copy) => locate(copy)[key] as Obj);
        continue;
      }
      yield { path, apply: (copy) => void (locate(copy)[key] = changed(path, value)) };
    }
  }
  yield* walk(config, "", (copy) => copy);
}

const SPECIAL: Record<string, Json> = {
  "gateway[signal].signal": "SIGWINCH",
  "targets[openclaw-cli].agent": "work",
  "trigger[host].user": "nobody",
  "trigger[container].user": "node",
  "targets[openclaw-cli].user": "nobody",
  "gateway[systemd].user": "nobody",
  "targets[ssh].host": "127.0.0.10",
  "targets[env-file].variable": "OPENCLAW_TOKEN",
  "trigger[container].baseUrlOverride": "http://127.0.0.1:9",
  "notify.webhooks[].url": "http://127.0.0.1:9/other",
  "watch.quietMs": 5,
  "targets[exec].fields": ["accessToken"],
  "targets[exec].writes": ["/tmp/oauth-sync-sighup-store"],
  "targets[exec].user": "nobody",
};

function changed(path: string, value: Json): Json {
  if (path in SPECIAL) return SPECIAL[path]!;
  if (typeof value === "boolean") return !value;
  if (typeof value === "number") return value + 1;
  if (Array.isArray(value)) return value.length && typeof value[0] === "number" ? [...(value as number[]), 30] : [...value, "--extra"];
  if (value !== null && typeof value === "object") return { ...value, EXTRA: "1" };
  const choices = ENUMS[path.replace(/^.*\./, "")];
  if (choices) return choices[(choices.indexOf(value as string) + 1) % choices.length]!;
  return typeof value === "string" && value.startsWith("/") ? `${value}-2` : `${value}-2`;
}

const ENUMS: Record<string, string[]> = {
  credentialType: ["token", "oauth", "api_key"],
  write: ["atomic", "in-place"],
  strategy: ["recreate", "down-up"],
  command: ["auth-status", "prompt"],
  expiresAtFormat: ["ms", "s", "iso"],
  format: ["mattermost", "slack", "discord", "ntfy", "json"],
};

/** Every leaf of the JSON Schema `config schema` prints, named as `changes` names them. */
function schemaFields(schema: Obj): Set<string> {
  const defs = (schema.$defs ?? {}) as Record<string, Obj>;
  const out = new Set<string>();
  const resolve = (node: Obj): Obj => (typeof node.$ref === "string" ? resolve(defs[node.$ref.split("/").pop()!]!) : node);
  function walk(raw: Obj, path: string) {
    const node = resolve(raw);
    for (const key of ["anyOf", "oneOf", "allOf"]) for (const sub of (node[key] as Obj[] | undefined) ?? []) walk(sub, path);
    const properties = node.properties as Record<string, Obj> | undefined;
    if (properties && node.type === "object" && !/\.(env|options)$/.test(path)) {
      const kind = resolve(properties.kind ?? properties.mode ?? {}).const as string | undefined;
      for (const [key, value] of Object.entries(properties)) {
        if (key === "kind" || key === "mode" || key === "source") continue;
        walk(value, kind ? `${path}[${kind}].${key}` : path ? `${path}.${key}` : key);
      }
      return;
    }
    const items = node.type === "array" ? resolve((node.items as Obj) ?? {}) : undefined;
    if (items && (items.type === "object" || items.anyOf || items.oneOf)) return walk(items, `${path}[]`);
    // A branch that only says which fields are required (gateway signal: pidFile or unit) sets nothing.
    if (node.type !== undefined || node.const !== undefined || node.enum !== undefined) out.add(path.replace(/\[\]\[/g, "["));
  }
  walk(schema, "");
  return out;
}

const digestOf = async (path: string) => {
  const check = await run(["config", "check", "--config", path]);
  expect(check.code, check.output).toBe(0);
  return /config ([0-9a-f]{12})\)/.exec(check.stdout)![1]!;
};

/** The start line of a service running `digest` under `pid`, printed after offset `since` of the output. */
async function startedSince(w: Running, since: number, digest: string, pid: number, timeoutMs = 15_000) {
  const line = new RegExp(`watching [^\\n]*config ${digest}, pid ${pid}\\)`);
  await waitUntil(`a start line with config ${digest}`, () => {
    if (w.child.exitCode !== null || w.child.signalCode !== null) throw new Error(`exited ${w.child.exitCode ?? w.child.signalCode}`);
    return line.test(w.output().slice(since));
  }, { timeoutMs, intervalMs: 20 });
}

const descriptors = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
/** Children of a pass (ssh, openclaw, the gateway command) hold pipes for a moment: the fewest seen over 2 s. */
async function quietDescriptors(pid: number) {
  let fewest = descriptors(pid);
  for (let i = 0; i < 20; i++) {
    await Bun.sleep(100);
    fewest = Math.min(fewest, descriptors(pid));
  }
  return fewest;
}
const openFiles = (pid: number) => readdirSync(`/proc/${pid}/fd`).map((fd) => `${fd} → ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`);
const children = (pid: number) =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]!.split(" ")[1] === String(pid);
      } catch {
        return false;
      }
    });

test("SIGHUP applies every setting of the config, each under the same pid, with nothing leaked", async () => {
  sandbox = await createSandbox("oauth-sync-sighup-");
  const s = sandbox;
  const token = fakeToken();
  await rotate(s, token, Date.now() + 8 * HOUR);
  const configs = variants(s);
  await writeFile(s.configPath, JSON.stringify(configs[0]));
  watcher = start(["watch", "--config", s.configPath]);
  const w = watcher;
  await w.waitFor(`config ${await digestOf(s.configPath)}, pid`);
  await waitForToken([s.files.oauthJson], token, 10_000);
  const pid = w.child.pid!;
  let reloads = 0;
  const apply = async (config: Obj, what: string) => {
    await writeFile(s.configPath, JSON.stringify(config));
    const digest = await digestOf(s.configPath);
    const before = w.output().length;
    w.child.kill("SIGHUP");
    await startedSince(w, before, digest, pid).catch((error) => {
      throw new Error(`${what}: ${error.message}\n--- since the SIGHUP:\n${w.output().slice(before)}`);
    });
    reloads++;
  };
  const covered = new Set<string>();
  for (const config of configs) {
    await apply(config, "variant");
    const fdsAfterFirst = await quietDescriptors(pid);
    for (const change of changes(config)) {
      const copy = structuredClone(config);
      change.apply(copy);
      await apply(copy, change.path);
      covered.add(change.path.replace(/\[\]\[/g, "["));
    }
    await apply(config, "back");
    // A descriptor left open by each reload would add up over the dozens of SIGHUPs of a variant. The count moves by
    // a few with the moment it is read (the watch and findmnt's pipe come up just after the start line), never by dozens.
    const fdsNow = await quietDescriptors(pid);
    expect(fdsNow, openFiles(pid).join("\n")).toBeLessThanOrEqual(fdsAfterFirst + 8);
  }
  const schema = JSON.parse((await run(["config", "schema"])).stdout) as Obj;
  const missing = [...schemaFields(schema)].filter((field) => !covered.has(field));
  expect(missing).toEqual([]);
  console.log(`${reloads} SIGHUPs, ${covered.size} settings each changed once; pid ${pid} throughout, ${descriptors(pid)} descriptors`);

  // Reloads asked for faster than the service starts again: they queue (one more after the one under way), none is lost.
  const before = w.output().length;
  for (let i = 0; i < 4; i++) {
    w.child.kill("SIGHUP");
    await Bun.sleep(15 * i);
  }
  await startedSince(w, before, await digestOf(s.configPath), pid);
  await Bun.sleep(1500);
  expect(w.child.exitCode ?? w.child.signalCode).toBeNull();

  // Still the same service, and working: a rotation lands.
  expect(w.child.exitCode).toBeNull();
  expect(children(pid).length).toBeLessThanOrEqual(2);
  const next = fakeToken();
  await rotate(s, next, Date.now() + 9 * HOUR);
  await waitForToken([s.files.oauthJson, s.files.envFile], next, 10_000);
  expect(w.output()).not.toContain("sk-ant-");
}, 300_000);

test("a config that does not validate, or says it receives pushes, is refused on SIGHUP: same process, old config", async () => {
  const s = sandbox!;
  const w = watcher!;
  const digest = await digestOf(s.configPath);
  for (const [text, says] of [
    ["{ not json", "keeping the previous one"],
    [JSON.stringify({ ...s.config, watch: { quietMs: -1 } }), "keeping the previous one"],
    [JSON.stringify({ ...s.config, source: "push" }), '"source": "push"'],
  ] as const) {
    const before = w.output().length;
    await writeFile(s.configPath, text);
    w.child.kill("SIGHUP");
    await w.waitFor(says);
    await Bun.sleep(300);
    expect(w.output().slice(before)).not.toContain("applying it");
  }
  expect(w.output()).toContain(`config ${digest}`);
  const next = fakeToken();
  await rotate(s, next, Date.now() + 10 * HOUR);
  await waitForToken([s.files.oauthJson], next, 10_000);
}, 60_000);
