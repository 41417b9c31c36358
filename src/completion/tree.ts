import type { ArgDef, CommandDef, Resolvable } from "citty";

/** What a flag wants after it: nothing, a file name, or one of some words. */
export type FlagValue = { kind: "none" } | { kind: "file" } | { kind: "choice"; words: string[] };

export interface Flag {
  /** "--config", then its aliases ("-c"); a boolean that defaults to true also has "--no-…" as its own flag. */
  names: string[];
  value: FlagValue;
  description: string;
}

export interface CommandNode {
  /** The words that lead here: [] for the root, ["config", "check"] for `oauth-sync config check`. */
  path: string[];
  description: string;
  flags: Flag[];
  subcommands: CommandNode[];
}

const resolve = async <T>(value: Resolvable<T> | undefined): Promise<T | undefined> =>
  typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;

/** Pure: a citty argument → the flags a shell offers for it (positionals are none). */
export function flagsOf(name: string, arg: ArgDef): Flag[] {
  if (arg.type === "positional") return [];
  const alias = (arg as { alias?: string | string[] }).alias;
  const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
  const names = [`--${name}`, ...aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`))];
  const description = arg.description ?? "";
  if (arg.type === "boolean") {
    const flags: Flag[] = [{ names, value: { kind: "none" }, description }];
    if (arg.default === true) flags.push({ names: [`--no-${name}`], value: { kind: "none" }, description: (arg as { negativeDescription?: string }).negativeDescription ?? `Not: ${description}` });
    return flags;
  }
  if (arg.type === "enum") return [{ names, value: { kind: "choice", words: [...((arg as { options?: string[] }).options ?? [])] }, description }];
  return [{ names, value: { kind: "file" }, description }];
}

/** The whole tree under `command`, lazy subcommands loaded: what the completion scripts are generated from. */
export async function commandTree(command: Resolvable<CommandDef>, path: string[] = []): Promise<CommandNode> {
  const def = (await resolve(command))!;
  const meta = await resolve(def.meta);
  const args = (await resolve(def.args)) ?? {};
  const flags = Object.entries(args).flatMap(([name, arg]) => flagsOf(name, arg as ArgDef));
  flags.push({ names: ["--help", "-h"], value: { kind: "none" }, description: "Show this help" });
  if (path.length === 0 && meta?.version) {
    flags.push({ names: ["--version", "-V"], value: { kind: "none" }, description: "Print the version" });
    flags.push({ names: ["--json"], value: { kind: "none" }, description: "With --version: as JSON" });
  }
  const subCommands = (await resolve(def.subCommands)) ?? {};
  const subcommands: CommandNode[] = [];
  for (const [name, sub] of Object.entries(subCommands)) subcommands.push(await commandTree(sub as Resolvable<CommandDef>, [...path, name]));
  return { path, description: meta?.description ?? "", flags, subcommands };
}

/** Pure: every node, root first. */
export function allNodes(node: CommandNode): CommandNode[] {
  return [node, ...node.subcommands.flatMap(allNodes)];
}

/** Pure: the "parent:word" pairs that step into a subcommand, as the scripts walk the command line. */
export function steps(root: CommandNode): string[] {
  return allNodes(root)
    .filter((n) => n.path.length > 0)
    .map((n) => `${n.path.slice(0, -1).join(" ")}:${n.path.at(-1)}`);
}

/** A word quoted for sh, bash and zsh alike. */
export const shQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The shell function a script defines for `program`. */
export const functionName = (program: string) => `_${program.replace(/[^A-Za-z0-9_]/g, "_")}`;

/**
 * Pure: one `case` arm per flag that takes a value, keyed `"<command path>:<flag>"` (quoted, `|`-joined); `arm`
 * renders the arm from those keys and the flag's value.
 */
export function flagValueArms(root: CommandNode, arm: (keys: string, value: Exclude<FlagValue, { kind: "none" }>) => string): string[] {
  return allNodes(root).flatMap((node) =>
    node.flags.flatMap((flag) => {
      if (flag.value.kind === "none") return [];
      const keys = flag.names.map((name) => shQuote(`${node.path.join(" ")}:${name}`)).join("|");
      return [arm(keys, flag.value)];
    }),
  );
}
