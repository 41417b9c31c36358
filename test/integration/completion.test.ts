/**
 * `oauth-sync completion bash|zsh|fish` from the compiled binary, loaded into the real shells (installed from Debian
 * when missing) and asked what they complete. The expected verbs and flags come from the binary's own --help, so a
 * completion that drifted from the command tree fails here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aptEnsure } from "../support/apt.ts";
import { requireBinary, run } from "../support/binary.ts";

let dir: string;
const scripts: Record<string, string> = {};

async function shell(argv: string[], cwd = dir) {
  const proc = Bun.spawn(argv, { cwd, env: { PATH: "/usr/bin:/bin", HOME: dir, TERM: "dumb" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${stderr}`);
  return stdout;
}

/** The verbs and flags as the binary's own help shows them (`--[no-]sync` is both forms). */
async function helpOf(words: string[]) {
  const { stdout } = await run([...words, "--help"]);
  const commands = stdout.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? "";
  const options = stdout.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? "";
  // Only the flag column: two spaces, then the flags up to the gap before the description.
  const labels = [...options.matchAll(/^ {2}(\S.*?)(?: {2,}|$)/gm)].map((m) => m[1]!);
  return {
    verbs: [...commands.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!).sort(),
    flags: labels.flatMap((label) =>
      [...label.matchAll(/(?<![\w-])(--?)(\[no-\])?([a-zA-Z][a-z-]*)/g)].flatMap(([, dashes, no, name]) => (no ? [`--${name}`, `--no-${name}`] : [`${dashes}${name}`])),
    ),
  };
}

/** What bash offers for the words typed so far (the last one is being completed). */
async function bash(...typed: string[]): Promise<string[]> {
  const words = typed.map((w) => `'${w}'`).join(" ");
  const out = await shell(["bash", "-c", `source '${join(dir, "oauth-sync.bash")}'; COMP_WORDS=(oauth-sync ${words}); COMP_CWORD=${typed.length}; _oauth_sync; printf '%s\\n' "\${COMPREPLY[@]}"`]);
  return out.split("\n").filter(Boolean).sort();
}

beforeAll(async () => {
  requireBinary();
  aptEnsure({ "/usr/bin/zsh": "zsh", "/usr/bin/fish": "fish" });
  dir = mkdtempSync(join(tmpdir(), "oauth-sync-completion-"));
  for (const name of ["bash", "zsh", "fish"]) {
    const { code, stdout, stderr } = await run(["completion", name]);
    if (code !== 0) throw new Error(`completion ${name}: ${stderr}`);
    scripts[name] = stdout;
    writeFileSync(join(dir, `oauth-sync.${name}`), stdout);
  }
  writeFileSync(join(dir, "config.json"), "{}");
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("completion", () => {
  test("bash: every verb, every verb's flags, nested subcommands, and files after a flag that takes one", async () => {
    const root = await helpOf([]);
    expect(await bash("")).toEqual(root.verbs);
    expect(await bash("con")).toEqual(["config"]);
    for (const verb of root.verbs) {
      const help = await helpOf([verb]);
      if (help.verbs.length) expect(await bash(verb, "")).toEqual(help.verbs);
      const offered = await bash(verb, "-");
      for (const flag of help.flags) expect(`${verb} ${offered.includes(flag) ? flag : `lacks ${flag}`}`).toBe(`${verb} ${flag}`);
    }
    expect(await bash("config", "check", "--c")).toEqual(["--config"]);
    expect(await bash("sync", "--config", "con")).toEqual(["config.json"]);
    expect(await bash("completion", "")).toEqual(["bash", "fish", "zsh"]);
    // `check` at the top and `config check` are different commands.
    expect(await bash("check", "--")).toContain("--config");
  }, 120_000);

  test("zsh: the function loads and offers verbs, nested subcommands and flags", async () => {
    // Outside a completion widget, _describe and _files are stand-ins that print what would be offered.
    const ask = async (...typed: string[]) =>
      (
        await shell([
          "zsh",
          "-f",
          "-c",
          `source '${join(dir, "oauth-sync.zsh")}'
_describe() { local spec; for spec in "\${(@P)\${@[-1]}}"; do print -r -- "\${spec%%:*}"; done }
_files() { print -r -- FILES }
compadd() { shift; print -rl -- "$@" }
words=(oauth-sync ${typed.map((w) => `'${w}'`).join(" ")}); CURRENT=${typed.length + 1}; _oauth_sync`,
        ])
      )
        .split("\n")
        .filter(Boolean)
        .sort();
    expect(await ask("")).toEqual((await helpOf([])).verbs);
    expect(await ask("config", "")).toEqual(["check", "schema", "show"]);
    expect(await ask("sync", "-")).toEqual(expect.arrayContaining(["--config", "-c", "--no-reload", "--help"]));
    expect(await ask("sync", "--config", "")).toEqual(["FILES"]);
  }, 120_000);

  test("fish: complete -C offers verbs, nested subcommands and flags", async () => {
    const ask = async (line: string) =>
      (await shell(["fish", "--no-config", "-c", `source '${join(dir, "oauth-sync.fish")}'; complete -C '${line}'`]))
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[0]!)
        .sort();
    expect(await ask("oauth-sync ")).toEqual((await helpOf([])).verbs);
    expect(await ask("oauth-sync config ")).toEqual(["check", "schema", "show"]);
    expect(await ask("oauth-sync config check --")).toEqual(expect.arrayContaining(["--config", "--help", "--quiet", "--verbose"]));
    expect(await ask("oauth-sync install --")).toEqual(expect.arrayContaining(["--dry-run", "--no-test", "--fix-model-config"]));
  }, 120_000);
});
