import type { ArgDef, ArgsDef } from "citty";
import { checkOf, type ValueCheck } from "./checks.ts";

/** One flag of a command as the strict parser and the help see it (from citty's declaration). */
export interface FlagSpec {
  name: string;
  kind: "boolean" | "string" | "enum";
  /** One-letter aliases: `-c`. */
  shorts: string[];
  /** Enum choices. */
  options: string[];
  /** What the value is, for help and errors: FILE, DIR, N… */
  valueHint: string;
  default: unknown;
  required: boolean;
  description: string;
  check?: ValueCheck;
}

export interface PositionalSpec {
  name: string;
  required: boolean;
  description: string;
}

export interface CommandSpec {
  /** The words after the program name: ["config", "check"]. */
  path: string[];
  description: string;
  flags: FlagSpec[];
  positionals: PositionalSpec[];
}

/** Pure: citty's declared args → the spec. Long aliases other than the name are not accepted (one spelling per flag). */
export function commandSpec(path: string[], description: string, args: ArgsDef): CommandSpec {
  const flags: FlagSpec[] = [];
  const positionals: PositionalSpec[] = [];
  for (const [name, def] of Object.entries(args) as [string, ArgDef][]) {
    if (def.type === "positional") {
      positionals.push({ name, required: def.required !== false && def.default === undefined, description: def.description ?? "" });
      continue;
    }
    const alias = (def as { alias?: string | string[] }).alias;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    const kind = def.type === "boolean" ? "boolean" : def.type === "enum" ? "enum" : "string";
    const options = kind === "enum" ? [...((def as { options?: string[] }).options ?? [])] : [];
    flags.push({
      name,
      kind,
      shorts: aliases.filter((a) => a.length === 1),
      options,
      valueHint: kind === "boolean" ? "" : kind === "enum" ? options.join("|") : ((def as { valueHint?: string }).valueHint ?? "VALUE"),
      default: def.default,
      required: Boolean((def as { required?: boolean }).required) && def.default === undefined,
      description: def.description ?? "",
      check: checkOf(def),
    });
  }
  return { path, description, flags, positionals };
}

/** How a flag is written with its value, for help and errors: `--config FILE`, `--trigger host|container|none`. */
export const flagUsage = (flag: FlagSpec) => (flag.kind === "boolean" ? `--${flag.name}` : `--${flag.name} ${flag.valueHint}`);

/** A boolean that is on unless turned off: help shows its `--no-` form. */
export const negatable = (flag: FlagSpec) => flag.kind === "boolean" && flag.default === true;
