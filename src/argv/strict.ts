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
  const command = ["oauth-sync", ...spec.path].join(" ");
  const fail = (message: string): StrictResult => ({ ok: false, error: `${command}: ${message}` });
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.flatMap((f) => f.shorts.map((s) => [s, f] as const)));
  const values: Record<string, string | boolean> = {};
  const written: Record<string, string> = {};
  const positionals: string[] = [];

  /** Records a value; a problem as text. */
  const set = (flag: FlagSpec, value: string | boolean, as: string): string | undefined => {
    if (flag.name in values) {
      if (flag.kind === "boolean" && values[flag.name] === value) return undefined;
      return flag.kind === "boolean" ? `${written[flag.name]} and ${as} contradict each other: give one` : `--${flag.name} given twice (${quote(String(values[flag.name]))} and ${quote(String(value))}): give it once`;
    }
    values[flag.name] = value;
    written[flag.name] = as;
    return undefined;
  };
  const missing = (flag: FlagSpec, as: string) => `${as} needs a value: ${flagUsage(flag)}${flag.kind === "string" ? ` (a value that starts with "-" goes as --${flag.name}=VALUE)` : ""}`;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      const inline = eq < 0 ? undefined : token.slice(eq + 1);
      let flag = byName.get(name);
      if (!flag && name.startsWith("no-") && byName.has(name.slice(3))) {
        flag = byName.get(name.slice(3))!;
        if (flag.kind !== "boolean") return fail(`--${name}: --${flag.name} takes a value and has no --no- form`);
        if (inline !== undefined) return fail(`--${name} takes no value (got ${quote(inline)})`);
        const problem = set(flag, false, `--${name}`);
        if (problem) return fail(problem);
        continue;
      }
      if (!flag) return fail(unknownFlag(`--${name}`, spec, homes));
      if (flag.kind === "boolean") {
        if (inline !== undefined && inline !== "true" && inline !== "false") return fail(`--${name} takes no value (got ${quote(inline)})`);
        const problem = set(flag, inline !== "false", `--${name}`);
        if (problem) return fail(problem);
        continue;
      }
      let value = inline;
      if (value === undefined) {
        const next = argv[i + 1];
        if (next === undefined || looksLikeFlag(next)) return fail(missing(flag, `--${name}`));
        value = next;
        i++;
      }
      if (value === "") return fail(missing(flag, `--${name}`));
      const problem = set(flag, value, `--${name}`);
      if (problem) return fail(problem);
      continue;
    }
    if (looksLikeFlag(token)) {
      const letters = token.slice(1);
      // `-config` for `--config`: one dash too few (not `-c onfig`).
      if (letters.length > 1 && byName.has(letters.split("=")[0]!)) return fail(`unknown flag ${quote(token)} (did you mean --${letters}?)`);
      for (let k = 0; k < letters.length; k++) {
        const letter = letters[k]!;
        const flag = byShort.get(letter);
        if (!flag) return fail(unknownShort(`-${letter}`, token, spec));
        if (flag.kind === "boolean") {
          const problem = set(flag, true, `-${letter}`);
          if (problem) return fail(problem);
          continue;
        }
        // A short flag with a value: the rest of the word (`-cFILE`, `-c=FILE`) or the next word.
        let value: string | undefined = letters.slice(k + 1).replace(/^=/, "");
        if (value === "") {
          const next = argv[i + 1];
          if (next === undefined || looksLikeFlag(next)) return fail(missing(flag, `-${letter}`));
          value = next;
          i++;
        }
        if (value === "") return fail(missing(flag, `-${letter}`));
        const problem = set(flag, value, `-${letter}`);
        if (problem) return fail(problem);
        break;
      }
      continue;
    }
    positionals.push(token);
  }

  if (positionals.length > spec.positionals.length) {
    const stray = positionals[spec.positionals.length]!;
    return fail(`unexpected argument ${quote(stray)}${strayHint(stray, spec)}`);
  }
  const absent = spec.positionals.find((p, i) => p.required && positionals[i] === undefined);
  if (absent) return fail(`missing ${absent.name.toUpperCase()}`);

  const clash = EXCLUSIVE.find(([a, b]) => values[a] === true && values[b] === true);
  if (clash) return fail(`${written[clash[0]]} and ${written[clash[1]]} contradict each other: give one`);

  const warnings: string[] = [];
  for (const flag of spec.flags) {
    const value = values[flag.name];
    if (value === undefined) {
      if (flag.required) return fail(`${flagUsage(flag)} is required`);
      continue;
    }
    if (typeof value !== "string") continue;
    if (flag.kind === "enum" && !flag.options.includes(value)) {
      const near = closest(value, flag.options);
      return fail(`--${flag.name} ${quote(value)} is not one of ${flag.options.join(", ")}${near ? ` (did you mean ${near}?)` : ""}`);
    }
    const verdict = flag.check?.(value);
    if (verdict && "error" in verdict) return fail(`--${flag.name} ${quote(value)} ${verdict.error}`);
    if (verdict && "warn" in verdict) warnings.push(`--${flag.name} ${quote(value)} ${verdict.warn}`);
  }

  const canonical = Object.entries(values).map(([name, value]) => (value === true ? `--${name}` : value === false ? `--no-${name}` : `--${name}=${value}`));
  if (positionals.length) canonical.push("--", ...positionals);
  return { ok: true, parsed: { values, positionals, canonical, warnings } };
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
