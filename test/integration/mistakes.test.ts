/**
 * The mistakes people make on a command line and in a config, each run against the compiled binary: the one line it
 * answers (exactly, so a regression in wording or in the number of lines shows), the exit code, and that nothing was
 * done where the command line was wrong.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSandbox, credentialsJson, fakeToken, removeSandbox, type Sandbox } from "../../src/demo/sandbox.ts";
import { BINARY, run } from "../support/binary.ts";

const HOUR = 3_600_000;
let sandbox: Sandbox;
/** Made now: the table's expected lines name files in it. */
const dir = mkdtempSync(join(tmpdir(), "oauth-sync-mistakes-"));

beforeAll(async () => {
  sandbox = await createSandbox("oauth-sync-mistakes-");
  const files: Record<string, string> = {
    "trailing.json": '{\n  "credentials": "/c.json",\n  "targets": [{ "kind": "env-file", "path": "/e" }],\n}\n',
    "bom.json": `\uFEFF${JSON.stringify({ credentials: "/c.json", targets: [{ kind: "env-file", path: "/e" }] })}`,
    "kind.json": '{\n  "credentials": "/c.json",\n  "targets": [{ "kind": "env-fil", "path": "/e" }]\n}\n',
    "key.json": '{\n  "credentials": "/c.json",\n  "target": [{ "kind": "env-file", "path": "/e" }]\n}\n',
    "null.json": '{\n  "credentials": "/c.json",\n  "targets": [{ "kind": "env-file", "path": "/e" }],\n  "gateway": null\n}\n',
    "comment.json": '{\n  // the login\n  "credentials": "/c.json"\n}\n',
    "missing-comma.json": '{\n  "credentials": "/c.json"\n  "targets": []\n}\n',
    "empty.json": "",
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o600 });
});
afterAll(async () => {
  await removeSandbox(sandbox);
  await rm(dir, { recursive: true, force: true });
});

interface Mistake {
  argv: () => string[];
  /** The whole of stderr (one line), or of stdout where the verb answers there (`config check`). */
  says: string | RegExp;
  code: number;
  on?: "stdout" | "stderr";
}

const C = () => sandbox.configPath;
const F = (name: string) => join(dir, name);

// prettier-ignore
const MISTAKES: [string, Mistake][] = [
  ["a mistyped verb", { argv: () => ["sycn"], says: '[error] oauth-sync: unknown command "sycn": did you mean `oauth-sync sync`? (`oauth-sync help` lists them)', code: 2 }],
  ["letters swapped", { argv: () => ["stauts"], says: '[error] oauth-sync: unknown command "stauts": did you mean `oauth-sync status`? (`oauth-sync help` lists them)', code: 2 }],
  ["a verb that is nothing like one", { argv: () => ["banana"], says: '[error] oauth-sync: unknown command "banana" (`oauth-sync help` lists them)', code: 2 }],
  ["a mistyped --version", { argv: () => ["--verison"], says: "[error] oauth-sync: unknown flag --verison (did you mean --version?)", code: 2 }],
  ["-v for the version", { argv: () => ["-v"], says: "[error] oauth-sync: -v is --verbose and goes after a command (oauth-sync sync -v); the version is --version (-V)", code: 2 }],
  ["--json alone", { argv: () => ["--json"], says: "[error] oauth-sync: --json goes with --version, or after a command that has it (oauth-sync status --json)", code: 2 }],
  ["a flag before the verb", { argv: () => ["--config", "c.json", "sync"], says: '[error] oauth-sync: "--config" goes after a command (oauth-sync watch --config …)', code: 2 }],
  ["help for a mistyped verb", { argv: () => ["help", "cnfig"], says: "[error] oauth-sync help: unknown command \"cnfig\": did you mean `oauth-sync help config`?", code: 2 }],
  ["help for a verb that has no sub-verbs", { argv: () => ["help", "sync", "extra"], says: '[error] oauth-sync help: oauth-sync sync has no command "extra"', code: 2 }],
  ["a group without its sub-verb", { argv: () => ["config"], says: "[error] oauth-sync config: a command is needed: check, schema, show (`oauth-sync help config`)", code: 2 }],
  ["a mistyped sub-verb", { argv: () => ["config", "chek"], says: '[error] oauth-sync config: unknown command "chek": did you mean `oauth-sync config check`? (`oauth-sync help config` lists them)', code: 2 }],
  ["a mistyped shell", { argv: () => ["completion", "fsh"], says: '[error] oauth-sync completion: unknown command "fsh": did you mean `oauth-sync completion fish`? (`oauth-sync help completion` lists them)', code: 2 }],
  ["a mistyped flag", { argv: () => ["sync", "--confg", C()], says: "[error] oauth-sync sync: unknown flag --confg (did you mean --config?)", code: 2 }],
  ["-c without its value", { argv: () => ["sync", "-c"], says: '[error] oauth-sync sync: -c needs a value: --config FILE (a value that starts with "-" goes as --config=VALUE)', code: 2 }],
  ["--config without its value", { argv: () => ["sync", "--config"], says: '[error] oauth-sync sync: --config needs a value: --config FILE (a value that starts with "-" goes as --config=VALUE)', code: 2 }],
  ["--config= empty", { argv: () => ["sync", "--config="], says: '[error] oauth-sync sync: --config needs a value: --config FILE (a value that starts with "-" goes as --config=VALUE)', code: 2 }],
  ["-c followed by another flag", { argv: () => ["sync", "-c", "--verbose"], says: '[error] oauth-sync sync: -c needs a value: --config FILE (a value that starts with "-" goes as --config=VALUE)', code: 2 }],
  ["the config given without its flag", { argv: () => ["sync", C()], says: new RegExp(`^\\[error\\] oauth-sync sync: unexpected argument ".*config\\.json": sync takes no arguments, only flags$`), code: 2 }],
  ["a value to a flag that takes none", { argv: () => ["sync", "--force=yes", "-c", C()], says: '[error] oauth-sync sync: --force takes no value (got "yes")', code: 2 }],
  ["a flag and its --no- form", { argv: () => ["sync", "--reload", "--no-reload", "-c", C()], says: "[error] oauth-sync sync: --reload and --no-reload contradict each other: give one", code: 2 }],
  ["--verbose with --quiet", { argv: () => ["sync", "-vq", "-c", C()], says: "[error] oauth-sync sync: -v and -q contradict each other: give one", code: 2 }],
  ["the config given twice", { argv: () => ["sync", "-c", "a.json", "-c", "b.json"], says: '[error] oauth-sync sync: --config given twice ("a.json" and "b.json"): give it once', code: 2 }],
  ["an unknown short flag", { argv: () => ["sync", "-x"], says: "[error] oauth-sync sync: unknown flag -x; the short flags here: -c (--config), -v (--verbose), -q (--quiet)", code: 2 }],
  ["--version after a verb", { argv: () => ["sync", "--version"], says: "[error] oauth-sync sync: unknown flag --version (it goes before any command: oauth-sync --version)", code: 2 }],
  ["a long dash pasted from a web page", { argv: () => ["status", "—config", "x"], says: '[error] oauth-sync status: unexpected argument "—config" (a long dash: did you mean --config?)', code: 2 }],
  ["one dash for a long flag", { argv: () => ["sync", "-config", "x"], says: '[error] oauth-sync sync: unknown flag "-config" (did you mean --config?)', code: 2 }],
  ["--no- of a flag with a value", { argv: () => ["sync", "--no-config"], says: "[error] oauth-sync sync: --no-config: --config takes a value and has no --no- form", code: 2 }],
  ["status --jsn", { argv: () => ["status", "--jsn"], says: "[error] oauth-sync status: unknown flag --jsn (did you mean --json?)", code: 2 }],
  ["notify --tset", { argv: () => ["notify", "--tset"], says: "[error] oauth-sync notify: unknown flag --tset (did you mean --test?)", code: 2 }],
  ["install --trigger foo", { argv: () => ["install", "--trigger", "foo"], says: '[error] oauth-sync install: --trigger "foo" is not one of host, container, none', code: 2 }],
  ["install --trigger hots", { argv: () => ["install", "--trigger", "hots"], says: '[error] oauth-sync install: --trigger "hots" is not one of host, container, none (did you mean host?)', code: 2 }],
  ["install --release banana", { argv: () => ["install", "--release", "banana"], says: '[error] oauth-sync install: --release "banana" is not an OpenClaw release: YEAR.MONTH.PATCH, e.g. 2026.9.6', code: 2 }],
  ["install --push --port 99999", { argv: () => ["install", "--push", "root@gw2", "--port", "99999"], says: '[error] oauth-sync install: --port "99999" is not a port (1-65535)', code: 2 }],
  ["demo --rotations abc", { argv: () => ["demo", "--rotations", "abc"], says: '[error] oauth-sync demo: --rotations "abc" is not a whole number from 1 to 10000', code: 2 }],
  ["demo --rotations 0", { argv: () => ["demo", "--rotations", "0"], says: '[error] oauth-sync demo: --rotations "0" is not a whole number from 1 to 10000', code: 2 }],
  ["uninstall with a stray word", { argv: () => ["uninstall", "everything"], says: '[error] oauth-sync uninstall: unexpected argument "everything": uninstall takes no arguments, only flags', code: 2 }],
  ["receive --config without its value", { argv: () => ["receive", "--config"], says: '[error] oauth-sync receive: --config needs a value: --config FILE (a value that starts with "-" goes as --config=VALUE)', code: 2 }],
  ["units into a directory that is not there", { argv: () => ["units", "-c", C(), "--output", "/nonexistent-oauth-sync/dir"], says: '[error] oauth-sync units: --output "/nonexistent-oauth-sync/dir" is not an existing directory: create it first (mkdir -p …), or leave --output out to print the units', code: 2 }],
  ["a config with a trailing comma", { argv: () => ["config", "check", "-c", F("trailing.json")], on: "stdout", says: `${F("trailing.json")}:3:52: not valid JSON: a comma before } (a trailing comma): remove it`, code: 2 }],
  ["a config with a comment", { argv: () => ["config", "check", "-c", F("comment.json")], on: "stdout", says: `${F("comment.json")}:2:3: not valid JSON: a comment: JSON has none, remove it`, code: 2 }],
  ["a config missing a comma", { argv: () => ["config", "check", "-c", F("missing-comma.json")], on: "stdout", says: `${F("missing-comma.json")}:3:3: not valid JSON: a comma is missing before this key`, code: 2 }],
  ["an empty config", { argv: () => ["config", "check", "-c", F("empty.json")], on: "stdout", says: `${F("empty.json")}:1:1: not valid JSON: the file is empty: it should hold a JSON object`, code: 2 }],
  ["a config saved with a byte order mark", { argv: () => ["config", "check", "-c", F("bom.json")], on: "stdout", says: /^.*bom\.json: ok \(1 target\(s\), gateway none, config [0-9a-f]+\)$/, code: 0 }],
  ["a target kind misspelt", { argv: () => ["config", "check", "-c", F("kind.json")], on: "stdout", says: /^\/.*kind\.json:3:25: targets\[0\]\.kind: "env-fil" is not one of "openclaw-auth-profiles", (?:"[a-z-]+", )*"ssh"(?:, "[a-z-]+")* \(did you mean "env-file"\?\)$/, code: 2 }],
  ["a key misspelt", { argv: () => ["config", "check", "-c", F("key.json")], on: "stdout", says: `${F("key.json")}:3:3: target: unknown key (did you mean "targets"?)`, code: 2 }],
  ["null where an older release took it", { argv: () => ["config", "check", "-c", F("null.json")], on: "stdout", says: `${F("null.json")}:4:14: gateway: null is not accepted here (object expected): remove the key to use the default`, code: 2 }],
  ["status --json without a config answers JSON", { argv: () => ["status", "--json", "-c", "/nonexistent-oauth-sync.json"], on: "stdout", says: '{"error":"cannot read config /nonexistent-oauth-sync.json: no such file or directory (ENOENT) (create it, run `oauth-sync install`, or pass --config FILE)","errors":["cannot read config /nonexistent-oauth-sync.json: no such file or directory (ENOENT) (create it, run `oauth-sync install`, or pass --config FILE)"],"exit":2}', code: 2 }],
  ["status --json with a mistyped flag answers JSON", { argv: () => ["status", "--json", "--usr"], on: "stdout", says: '{"error":"oauth-sync status: unknown flag --usr (did you mean --user?)","errors":["oauth-sync status: unknown flag --usr (did you mean --user?)"],"exit":2}', code: 2 }],
];

describe("a mistake gets one line that names it, and its exit code", () => {
  test("the table is the size the issue asks for", () => {
    expect(MISTAKES.length).toBeGreaterThanOrEqual(40);
  });

  test.each(MISTAKES)("%s", async (_, mistake) => {
    const result = await run(mistake.argv(), { OAUTH_SYNC_CONFIG: "/nonexistent-oauth-sync-default.json" });
    const said = (mistake.on === "stdout" ? result.stdout : result.stderr).replace(/\n$/, "");
    if (typeof mistake.says === "string") expect(said).toBe(mistake.says);
    else expect(said).toMatch(mistake.says);
    expect(said.split("\n")).toHaveLength(1);
    expect(result.code).toBe(mistake.code);
    expect(result.output).not.toContain("\x1b[");
    expect(result.output).not.toContain("/proc/self/fd");
  });
});

describe("nothing is done when the command line is wrong", () => {
  test("sync --dry-run is refused and writes nothing: not a target, not the state", async () => {
    const token = fakeToken();
    await writeFile(sandbox.credentials, credentialsJson(token, Date.now() + 8 * HOUR), { mode: 0o600 });
    const targets = Object.values(sandbox.files);
    // A target a first sync would create is absent: absent it must stay.
    const look = (path: string) => (existsSync(path) ? Promise.all([readFile(path, "utf8"), stat(path).then((s) => s.mtimeMs)]) : Promise.resolve(null));
    const before = await Promise.all(targets.map(look));
    expect(before.filter((t) => t === null).length).toBeLessThan(targets.length);
    const state = join(sandbox.root, "state");
    const stateBefore = existsSync(state);
    const result = await run(["sync", "--dry-run", "--config", C()]);
    expect(result.stderr.trim()).toBe("[error] oauth-sync sync: unknown flag --dry-run (only oauth-sync install has it)");
    expect(result.code).toBe(2);
    const after = await Promise.all(targets.map(look));
    expect(after).toEqual(before);
    for (const target of after) expect(target?.[0] ?? "").not.toContain(token);
    expect(existsSync(state)).toBe(stateBefore);
    // The same command line without the mistake does write: the test could fail.
    expect((await run(["sync", "--config", C()])).code).toBe(0);
    for (const path of targets) expect(await readFile(path, "utf8")).toContain(token);
  });

  test("units --output into a missing directory creates nothing", async () => {
    await run(["units", "-c", C(), "--output", "/nonexistent-oauth-sync/dir"]);
    expect(existsSync("/nonexistent-oauth-sync")).toBe(false);
  });

  test("config show prints the config without touching the state directory", async () => {
    const config = join(dir, "state-elsewhere.json");
    const stateDir = join(dir, "never-made", "state");
    await writeFile(config, JSON.stringify({ credentials: "/c.json", stateDir, targets: [{ kind: "env-file", path: "/e" }] }));
    const shown = await run(["config", "show", "-c", config]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).stateDir).toBe(stateDir);
    expect(existsSync(join(dir, "never-made"))).toBe(false);
  });
});

describe("install's pre-flight, before anything is detected or written", () => {
  const asNobody = process.getuid?.() === 0;

  test.if(asNobody)("not root: exit 10 and the fix, and no detection ran", async () => {
    const home = await mkdtemp(join(tmpdir(), "oauth-sync-nobody-"));
    await chmod(home, 0o777);
    // A copy nobody can reach (the checkout may sit under a home only root can enter).
    const binary = join(home, "oauth-sync");
    await copyFile(BINARY, binary);
    await chmod(binary, 0o755);
    const proc = Bun.spawn(["runuser", "-u", "nobody", "--", binary, "install", "--yes", "--openclaw-dir", "/nonexistent-openclaw"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    await rm(home, { recursive: true, force: true });
    expect(code).toBe(10);
    expect(stderr).toContain("[error] install writes /usr/local/bin, /etc and systemd units: run it as root (sudo oauth-sync install …), or with --user for a per-user install\n");
    expect(stdout).not.toContain("Claude Code logins");
    expect(stderr).not.toContain("EACCES");
  });

  test.if(!existsSync("/run/systemd/system"))("no systemd as PID 1 (this machine): exit 11 naming PID 1; --dry-run only warns", async () => {
    const result = await run(["install", "--yes", "--openclaw-dir", "/nonexistent-openclaw"]);
    expect(result.code).toBe(11);
    expect(result.stderr).toMatch(/^\[error\] systemd is not running as PID 1 \(PID 1 is ".+"\): install needs it for its units/m);
    expect(result.stdout).not.toContain("Claude Code logins");
    const dry = await run(["install", "--yes", "--dry-run", "--openclaw-dir", "/nonexistent-openclaw"]);
    expect(dry.stderr).toContain("[warn] a real install would stop here: systemd is not running as PID 1");
  });
});

describe("help and the version", () => {
  test("every help page fits 80 columns, names the program in its usage line, and is plain text", async () => {
    const root = await run(["help"]);
    expect(root.code).toBe(0);
    const verbs = [...(root.stdout.split(/^Commands:$/m)[1] ?? "").matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
    expect(verbs.length).toBeGreaterThan(10);
    const pages = [[], ...verbs.map((v) => [v]), ["config", "check"], ["config", "schema"], ["config", "show"], ["completion", "bash"]];
    for (const page of pages) {
      const help = await run(["help", ...page]);
      expect(help.code).toBe(0);
      const lines = help.stdout.split("\n");
      expect(lines[0]).toStartWith(`Usage: oauth-sync ${page.join(" ")}`.trimEnd());
      for (const line of lines) expect(line.length, `oauth-sync help ${page.join(" ")}: ${line}`).toBeLessThanOrEqual(80);
      expect(help.stdout).not.toContain("\x1b[");
      expect((await run([...page, "--help"])).stdout).toBe(help.stdout);
    }
  });

  test("--version names version, commit, date, target, libc and Bun; --version --json as JSON", async () => {
    const line = await run(["--version"]);
    expect(line.code).toBe(0);
    expect(line.stdout.trim()).toMatch(/^oauth-sync \S+ \(commit (?:[0-9a-f]{12}(?:-dirty)?|unknown), \S+, (?:x86_64|aarch64)-linux-(?:gnu|musl), (?:glibc|musl), bun \d+\.\d+\.\d+\)$/);
    const json = await run(["--version", "--json"]);
    expect(Object.keys(JSON.parse(json.stdout)).sort()).toEqual(["bun", "commit", "date", "libc", "target", "version"]);
    expect((await run(["-V"])).stdout).toBe(line.stdout);
  });
});
