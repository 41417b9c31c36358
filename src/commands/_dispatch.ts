import { runCommand, type ArgsDef, type CommandDef, type Resolvable } from "citty";
import { EXIT } from "../exit-codes.ts";
import { logger, print, printJson } from "../log/logger.ts";
import { BUILD, versionLine } from "../version.ts";
import { leave, reportAsJson } from "./_edge.ts";
import type { RunData } from "./_root.ts";
import { renderHelp } from "../argv/help.ts";
import { commandSpec, type CommandSpec, type FlagSpec } from "../argv/spec.ts";
import { parseStrict, quote, type FlagHomes } from "../argv/strict.ts";
import { closest } from "../argv/suggest.ts";

const resolve = async <T>(value: Resolvable<T> | undefined): Promise<T | undefined> =>
  typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;

interface Node {
  def: CommandDef;
  spec: CommandSpec;
  subcommands: Record<string, Resolvable<CommandDef>>;
}

async function node(def: CommandDef, path: string[]): Promise<Node> {
  const meta = await resolve(def.meta);
  const args = ((await resolve(def.args)) ?? {}) as ArgsDef;
  const subcommands = ((await resolve(def.subCommands)) ?? {}) as Record<string, Resolvable<CommandDef>>;
  return { def, spec: commandSpec(path, meta?.description ?? "", args), subcommands };
}

const HELP_FLAG: FlagSpec = { name: "help", kind: "boolean", shorts: ["h"], options: [], valueHint: "", default: undefined, required: false, description: "Show this help" };
/** The flags of the program itself, before any verb. `-v` is `--verbose` on every verb, so the version is `-V`. */
const ROOT_FLAGS: FlagSpec[] = [
  HELP_FLAG,
  { name: "version", kind: "boolean", shorts: ["V"], options: [], valueHint: "", default: undefined, required: false, description: "Print the version, commit, build date, target, libc and Bun (with --json: as JSON)" },
  { name: "json", kind: "boolean", shorts: [], options: [], valueHint: "", default: undefined, required: false, description: "With --version: print it as JSON" },
];

const isHelp = (token: string) => token === "--help" || token === "-h";
/** Words before a `--`: after it everything is an argument, `--help` too. */
const options = (argv: readonly string[]) => (argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv);

/** One line on stderr (JSON on stdout too for a verb asked for --json), exit 2: a command line the program cannot run. */
function usageError(line: string): never {
  logger.error(line);
  return leave(EXIT.usage, [line]);
}

async function showHelp(at: Node): Promise<never> {
  const subcommands: { name: string; description: string }[] = [];
  for (const [name, sub] of Object.entries(at.subcommands)) {
    const meta = await resolve((await resolve(sub))?.meta);
    if (!meta?.hidden) subcommands.push({ name, description: meta?.description ?? "" });
  }
  const flags = at.spec.path.length === 0 ? ROOT_FLAGS : [...at.spec.flags, HELP_FLAG];
  print(renderHelp({ spec: { ...at.spec, flags }, subcommands }));
  return leave(EXIT.ok);
}

/** Every flag of every verb, by name → the commands that have it: for "it belongs to …". */
async function flagHomes(root: CommandDef): Promise<FlagHomes> {
  const homes = new Map<string, string[]>();
  const add = (name: string, where: string) => homes.set(name, [...(homes.get(name) ?? []), where]);
  for (const flag of ROOT_FLAGS) if (flag.name !== "help") add(flag.name, "oauth-sync");
  const walk = async (def: CommandDef, path: string[]) => {
    const at = await node(def, path);
    if (Object.keys(at.subcommands).length === 0) {
      for (const flag of at.spec.flags) for (const name of [flag.name, ...flag.shorts.map((s) => `-${s}`)]) add(name, ["oauth-sync", ...path].join(" "));
    }
    for (const [name, sub] of Object.entries(at.subcommands)) await walk((await resolve(sub))!, [...path, name]);
  };
  await walk(root, []);
  return homes;
}

/**
 * The command line → one verb run by citty, or help, the version, or one line naming what is wrong. Every verb's
 * words are checked against what it declares before it runs: an unknown or misspelt flag, a missing value, a stray
 * argument or a value out of its choices never reaches a verb (citty alone would ignore most of them).
 */
export async function runCli(root: CommandDef, argv: readonly string[]): Promise<void> {
  let at = await node(root, []);
  let i = 0;
  for (;;) {
    const names = Object.keys(at.subcommands);
    if (names.length === 0) break;
    const word = argv[i];
    const here = ["oauth-sync", ...at.spec.path].join(" ");
    if (word === undefined) {
      if (at.spec.path.length === 0) return showHelp(at);
      return usageError(`${here}: a command is needed: ${names.join(", ")} (\`oauth-sync help ${at.spec.path.join(" ")}\`)`);
    }
    // `oauth-sync --help sync` as `oauth-sync help sync`.
    if (isHelp(word)) return helpFor(root, [...at.spec.path, ...argv.slice(i + 1).filter((w) => !w.startsWith("-"))]);
    if (word === "help" && at.spec.path.length === 0) return helpFor(root, argv.slice(i + 1));
    if (word.startsWith("-") && word !== "-") {
      if (at.spec.path.length === 0) return rootFlags(root, argv.slice(i));
      return usageError(`${here}: ${quote(word)} before the command: flags go after it (${here} COMMAND ${word} …)`);
    }
    const sub = at.subcommands[word];
    if (!sub) {
      const near = closest(word, names);
      return usageError(`${here}: unknown command ${quote(word)}${near ? `: did you mean \`${here} ${near}\`?` : ""} (\`oauth-sync help${at.spec.path.length ? ` ${at.spec.path.join(" ")}` : ""}\` lists them)`);
    }
    at = await node((await resolve(sub))!, [...at.spec.path, word]);
    i++;
  }

  const rest = argv.slice(i);
  if (options(rest).some(isHelp)) return showHelp(at);
  if (at.spec.flags.some((f) => f.name === "json") && options(rest).includes("--json")) reportAsJson();
  let result = parseStrict(rest, at.spec);
  if (!result.ok && result.error.includes("unknown flag")) result = parseStrict(rest, at.spec, await flagHomes(root));
  if (!result.ok) return usageError(result.error);
  for (const warning of result.parsed.warnings) logger.warn(`${["oauth-sync", ...at.spec.path].join(" ")}: ${warning}`);
  await runCommand(at.def, { rawArgs: result.parsed.canonical, data: { root } satisfies RunData });
}

/** `oauth-sync --version [--json]`, `--help`; any other flag before a verb is named with where it goes. */
async function rootFlags(root: CommandDef, argv: readonly string[]): Promise<never> {
  const result = parseStrict(argv, { path: [], description: "", flags: ROOT_FLAGS, positionals: [] });
  if (!result.ok) {
    const stray = argv.find((word) => !["--version", "-V", "--json", "--help", "-h"].includes(word)) ?? "";
    if (stray === "-v") return usageError("oauth-sync: -v is --verbose and goes after a command (oauth-sync sync -v); the version is --version (-V)");
    if (!stray.startsWith("-")) return usageError(result.error);
    const name = stray.startsWith("--") ? stray.slice(2).split("=")[0]! : stray.slice(0, 2);
    const verbs = (await flagHomes(root)).get(name)?.filter((home) => home !== "oauth-sync");
    if (verbs?.length) return usageError(`oauth-sync: ${quote(stray)} goes after a command (${verbs[0]} ${stray} …)`);
    return usageError(result.error);
  }
  const { values } = result.parsed;
  if (values.version) {
    if (values.json) {
      reportAsJson();
      printJson(BUILD);
    } else print(versionLine());
    return leave(EXIT.ok);
  }
  if (values.json) return usageError("oauth-sync: --json goes with --version, or after a command that has it (oauth-sync status --json)");
  return showHelp(await node(root, []));
}

/** `oauth-sync help [COMMAND [SUBCOMMAND]]`. */
async function helpFor(root: CommandDef, words: readonly string[]): Promise<never> {
  let at = await node(root, []);
  for (const word of words) {
    const here = ["oauth-sync", ...at.spec.path].join(" ");
    const names = Object.keys(at.subcommands);
    const sub = at.subcommands[word];
    if (!sub) {
      if (!names.length) return usageError(`oauth-sync help: ${here} has no command ${quote(word)}`);
      const near = closest(word, names);
      return usageError(`oauth-sync help: unknown command ${quote(word)}${near ? `: did you mean \`oauth-sync help ${[...at.spec.path, near].join(" ")}\`?` : ` (${here} has ${names.join(", ")})`}`);
    }
    at = await node((await resolve(sub))!, [...at.spec.path, word]);
  }
  return showHelp(at);
}
