import { flagUsage, type CommandSpec, type FlagSpec } from "./spec.ts";
import { closest } from "./suggest.ts";

export interface Parsed {
  values: Record<string, string | boolean>;
  positionals: string[];
  /** The same command line in one unambiguous spelling (`--name=value`, `--flag`, `--no-flag`, `--` then positionals): what citty parses. */
  canonical: string[];
  /** Lines to show before running (a value a check accepted with a remark). */
  warnings: string[];
}

export type StrictResult = { ok: true; parsed: Parsed } | { ok: false; error: string };

/** Where else a long flag exists: flag name → the commands that declare it (`oauth-sync install`). */
export type FlagHomes = ReadonlyMap<string, readonly string[]>;

/** A user's word, quoted so that nothing in it (escapes, newlines) reaches the terminal raw. */
export const quote = (word: string) => JSON.stringify(word);
/** A word as typed where it is plain, quoted where it holds anything a terminal could take for more. */
const shown = (word: string) => (quote(word).slice(1, -1) === word ? word : quote(word));

/** Flags that say opposite things: given together, the command line is refused. */
const EXCLUSIVE: [string, string][] = [["verbose", "quiet"]];

const looksLikeFlag = (token: string) => token.startsWith("-") && token !== "-" && !/^-\d/.test(token);

/**
 * Pure: the words after a command's name checked against what it declares. The first problem is the answer, in one
 * line that names it and, where one is close, the valid choice.
 */
export function parseStrict(argv: readonly string[], spec: CommandSpec, homes: FlagHomes = new Map()): StrictResult {
  const fail = (problem: string): StrictResult => ({ ok: false, error: `${["oauth-sync", ...spec.path].join(" ")}: ${problem}` });
  const read = readWords(argv, spec, homes);
  if ("problem" in read) return fail(read.problem);
  const { given, positionals } = read;
  const problem = positionalProblem(positionals, spec) ?? clashProblem(given);
  if (problem) return fail(problem);
  const checked = checkValues(spec.flags, given.values);
  if ("problem" in checked) return fail(checked.problem);
  return { ok: true, parsed: { values: given.values, positionals, canonical: canonicalWords(given.values, positionals), warnings: checked.warnings } };
}

/** The flags given so far: each one's value, and how it was written (`-v`, `--no-reload`), for the line that names a clash. */
interface Given {
  values: Record<string, string | boolean>;
  written: Record<string, string>;
}

/** What reading the words has at hand: the command, its flags by name and by letter, where other flags live, what was given. */
interface Reading {
  spec: CommandSpec;
  homes: FlagHomes;
  byName: ReadonlyMap<string, FlagSpec>;
  byShort: ReadonlyMap<string, FlagSpec>;
  given: Given;
}

/** How many words a flag took (its own, or also the next one for its value), or what is wrong with it. */
type Step = { used: 1 | 2 } | { problem: string };

/** The words as flags and positionals, in order, until the first problem; everything after `--` is a positional. */
function readWords(argv: readonly string[], spec: CommandSpec, homes: FlagHomes): { given: Given; positionals: string[] } | { problem: string } {
  const reading: Reading = {
    spec,
    homes,
    byName: new Map(spec.flags.map((f) => [f.name, f])),
    byShort: new Map(spec.flags.flatMap((f) => f.shorts.map((s) => [s, f] as const))),
    given: { values: {}, written: {} },
  };
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; ) {
    const token = argv[i]!;
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let step: Step = { used: 1 };
    if (token.startsWith("--")) step = readLong(token, argv[i + 1], reading);
    else if (looksLikeFlag(token)) step = readShorts(token, argv[i + 1], reading);
    else positionals.push(token);
    if ("problem" in step) return step;
    i += step.used;
  }
  return { given: reading.given, positionals };
}

/** `--name`, `--name=value`, `--name value`, `--no-name`. */
function readLong(token: string, next: string | undefined, { byName, given, spec, homes }: Reading): Step {
  const eq = token.indexOf("=");
  const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
  const inline = eq < 0 ? undefined : token.slice(eq + 1);
  const flag = byName.get(name);
  const negated = flag ? undefined : name.startsWith("no-") ? byName.get(name.slice(3)) : undefined;
  if (negated) return readNegated(name, inline, negated, given);
  if (!flag) return { problem: unknownFlag(`--${name}`, spec, homes) };
  if (flag.kind === "boolean") {
    if (inline !== undefined && inline !== "true" && inline !== "false") return { problem: `--${name} takes no value (got ${quote(inline)})` };
    return stepOf(record(given, flag, inline !== "false", `--${name}`), 1);
  }
  const taken = flagValue(inline, next);
  if (!taken) return { problem: missingValue(flag, `--${name}`) };
  return stepOf(record(given, flag, taken.value, `--${name}`), taken.used);
}

/** `--no-name`: only a boolean has it, and it takes no value. */
function readNegated(name: string, inline: string | undefined, flag: FlagSpec, given: Given): Step {
  if (flag.kind !== "boolean") return { problem: `--${name}: --${flag.name} takes a value and has no --no- form` };
  if (inline !== undefined) return { problem: `--${name} takes no value (got ${quote(inline)})` };
  return stepOf(record(given, flag, false, `--${name}`), 1);
}

/** `-v`, a group of them (`-vq`), and the last one's value (`-vcFILE`, `-vc=FILE`, `-vc FILE`). */
function readShorts(token: string, next: string | undefined, { byName, byShort, given, spec }: Reading): Step {
  const letters = token.slice(1);
  // `-config` for `--config`: one dash too few (not `-c onfig`).
  if (letters.length > 1 && byName.has(letters.split("=")[0]!)) return { problem: `unknown flag ${quote(token)} (did you mean --${letters}?)` };
  for (let k = 0; k < letters.length; k++) {
    const letter = letters[k]!;
    const flag = byShort.get(letter);
    if (!flag) return { problem: unknownShort(`-${letter}`, token, spec) };
    if (flag.kind === "boolean") {
      const problem = record(given, flag, true, `-${letter}`);
      if (problem) return { problem };
      continue;
    }
    // A short flag with a value ends the group: the rest of the word is its value, else the next word.
    const rest = letters.slice(k + 1).replace(/^=/, "");
    const taken = flagValue(rest === "" ? undefined : rest, next);
    if (!taken) return { problem: missingValue(flag, `-${letter}`) };
    return stepOf(record(given, flag, taken.value, `-${letter}`), taken.used);
  }
  return { used: 1 };
}

/** A flag's value: the one in its own word, else the next word unless that looks like a flag; none when empty. */
function flagValue(own: string | undefined, next: string | undefined): { value: string; used: 1 | 2 } | undefined {
  const value = own ?? (next === undefined || looksLikeFlag(next) ? undefined : next);
  if (value === undefined || value === "") return undefined;
  return { value, used: own === undefined ? 2 : 1 };
}

const stepOf = (problem: string | undefined, used: 1 | 2): Step => (problem ? { problem } : { used });

/** Records a flag's value; the problem when it was given before with another (a boolean: the same is no problem). */
function record(given: Given, flag: FlagSpec, value: string | boolean, as: string): string | undefined {
  const { values, written } = given;
  if (flag.name in values) {
    if (flag.kind === "boolean" && values[flag.name] === value) return undefined;
    return flag.kind === "boolean" ? `${written[flag.name]} and ${as} contradict each other: give one` : `--${flag.name} given twice (${quote(String(values[flag.name]))} and ${quote(String(value))}): give it once`;
  }
  values[flag.name] = value;
  written[flag.name] = as;
  return undefined;
}

const missingValue = (flag: FlagSpec, as: string) => `${as} needs a value: ${flagUsage(flag)}${flag.kind === "string" ? ` (a value that starts with "-" goes as --${flag.name}=VALUE)` : ""}`;

/** More positionals than the command takes, or a required one missing. */
function positionalProblem(positionals: readonly string[], spec: CommandSpec): string | undefined {
  if (positionals.length > spec.positionals.length) {
    const stray = positionals[spec.positionals.length]!;
    return `unexpected argument ${quote(stray)}${strayHint(stray, spec)}`;
  }
  const absent = spec.positionals.find((p, i) => p.required && positionals[i] === undefined);
  return absent ? `missing ${absent.name.toUpperCase()}` : undefined;
}

function clashProblem({ values, written }: Given): string | undefined {
  const clash = EXCLUSIVE.find(([a, b]) => values[a] === true && values[b] === true);
  return clash ? `${written[clash[0]]} and ${written[clash[1]]} contradict each other: give one` : undefined;
}

/** Each declared flag, in the order declared: a required one given, a choice among its options, what its check says. */
function checkValues(flags: readonly FlagSpec[], values: Given["values"]): { warnings: string[] } | { problem: string } {
  const warnings: string[] = [];
  for (const flag of flags) {
    const value = values[flag.name];
    if (value === undefined) {
      if (flag.required) return { problem: `${flagUsage(flag)} is required` };
      continue;
    }
    if (typeof value !== "string") continue;
    if (flag.kind === "enum" && !flag.options.includes(value)) {
      const near = closest(value, flag.options);
      return { problem: `--${flag.name} ${quote(value)} is not one of ${flag.options.join(", ")}${near ? ` (did you mean ${near}?)` : ""}` };
    }
    const verdict = flag.check?.(value);
    if (verdict && "error" in verdict) return { problem: `--${flag.name} ${quote(value)} ${verdict.error}` };
    if (verdict && "warn" in verdict) warnings.push(`--${flag.name} ${quote(value)} ${verdict.warn}`);
  }
  return { warnings };
}

/** The same command line in the one spelling citty reads alike: `--name=value`, `--flag`, `--no-flag`, `--` then positionals. */
function canonicalWords(values: Given["values"], positionals: readonly string[]): string[] {
  const words = Object.entries(values).map(([name, value]) => (value === true ? `--${name}` : value === false ? `--no-${name}` : `--${name}=${value}`));
  return positionals.length ? [...words, "--", ...positionals] : words;
}

/** Pure: the line for a long flag this command does not have: the close one it has, or the command that has it. */
export function unknownFlag(written: string, spec: CommandSpec, homes: FlagHomes): string {
  const name = written.replace(/^--/, "");
  const names = spec.flags.flatMap((f) => (f.kind === "boolean" && f.default === true ? [f.name, `no-${f.name}`] : [f.name]));
  const own = ["oauth-sync", ...spec.path].join(" ");
  const elsewhere = names.includes(name) ? [] : (homes.get(name) ?? []).filter((home) => home !== own);
  if (elsewhere.includes("oauth-sync")) return `unknown flag ${shown(written)} (it goes before any command: oauth-sync ${written})`;
  if (elsewhere.length) return `unknown flag ${shown(written)} (only ${elsewhere.length > 3 ? `${elsewhere.slice(0, 3).join(", ")}…` : elsewhere.join(", ")} ${elsewhere.length > 1 ? "have" : "has"} it)`;
  const near = closest(name, names);
  return `unknown flag ${shown(written)}${near ? ` (did you mean --${near}?)` : ""}`;
}

function unknownShort(written: string, token: string, spec: CommandSpec): string {
  const shorts = spec.flags.flatMap((f) => f.shorts.map((s) => `-${s} (--${f.name})`));
  const within = token === written ? "" : ` in ${quote(token)}`;
  return `unknown flag ${shown(written)}${within}${shorts.length ? `; the short flags here: ${shorts.join(", ")}` : ""}`;
}

/** A word that was meant as a flag: `—config` pasted with a long dash, or a flag name without its dashes. */
function strayHint(word: string, spec: CommandSpec): string {
  const bare = word.replace(/^[\u2010-\u2015\u2212]+/, "");
  const flag = spec.flags.find((f) => f.name === bare || f.name === bare.split("=")[0]);
  if (flag && bare !== word) return ` (a long dash: did you mean --${bare}?)`;
  if (flag) return ` (did you mean --${bare}?)`;
  if (spec.positionals.length) return "";
  return spec.path.length ? `: ${spec.path.join(" ")} takes no arguments, only flags` : ": the command comes first, then its flags";
}
