import { negatable, type CommandSpec, type FlagSpec } from "./spec.ts";

export interface HelpPage {
  spec: CommandSpec;
  /** Sub-verbs of a group (`config check|schema|show`), or the verbs at the top. */
  subcommands: { name: string; description: string }[];
}

export const WIDTH = 80;
const INDENT = 2;
/** The description column never starts further right than this; a longer flag gets its description on the next line. */
const MAX_FLAG_COLUMN = 30;

/** Pure: a command's help, plain text within `width` columns, the program name in the usage line. */
export function renderHelp(page: HelpPage, width = WIDTH): string {
  const { spec, subcommands } = page;
  const name = ["oauth-sync", ...spec.path].join(" ");
  const positionals = spec.positionals.map((p) => (p.required ? ` <${p.name.toUpperCase()}>` : ` [${p.name.toUpperCase()}]`)).join("");
  const usage = subcommands.length ? `${name} <command>${spec.flags.length > 2 ? " [options]" : ""}` : `${name}${spec.flags.length ? " [options]" : ""}${positionals}`;
  const lines = [`Usage: ${usage}`, "", ...wrap(spec.description, width)];
  if (subcommands.length) {
    lines.push("", "Commands:");
    lines.push(...columns(subcommands.map((c) => [c.name, c.description]), width));
  }
  if (spec.flags.length) {
    lines.push("", "Options:");
    lines.push(...columns(spec.flags.map((f) => [flagLabel(f), flagDescription(f)]), width));
  }
  if (subcommands.length) lines.push("", ...wrap(`\`oauth-sync help ${spec.path.length ? `${spec.path.join(" ")} ` : ""}COMMAND\` (or \`${name} COMMAND --help\`) shows a command's options.`, width));
  return `${lines.join("\n")}\n`;
}

/** `-c, --config FILE` (a flag without a short one lines up with those that have one); `--[no-]sync` for one that is on by default. */
export function flagLabel(flag: FlagSpec): string {
  const short = flag.shorts.length ? `${flag.shorts.map((s) => `-${s}`).join(", ")}, ` : "    ";
  const long = negatable(flag) ? `--[no-]${flag.name}` : `--${flag.name}`;
  return `${short}${long}${flag.kind === "boolean" ? "" : ` ${flag.valueHint}`}`;
}

function flagDescription(flag: FlagSpec): string {
  const shown = flag.kind !== "boolean" && flag.default !== undefined ? ` (default: ${String(flag.default)})` : negatable(flag) ? " (default: on)" : "";
  return `${flag.description}${shown}`;
}

/** Pure: two columns, the left one as wide as its widest entry (capped), the right one wrapped. */
export function columns(rows: [string, string][], width = WIDTH): string[] {
  const left = Math.min(MAX_FLAG_COLUMN, Math.max(0, ...rows.map(([label]) => label.length)));
  const at = INDENT + left + 2;
  const out: string[] = [];
  for (const [label, text] of rows) {
    const body = wrap(text, width - at);
    if (label.length > left) {
      out.push(" ".repeat(INDENT) + label);
      for (const line of body) out.push(" ".repeat(at) + line);
      continue;
    }
    out.push((" ".repeat(INDENT) + label.padEnd(left + 2) + (body[0] ?? "")).trimEnd());
    for (const line of body.slice(1)) out.push(" ".repeat(at) + line);
  }
  return out;
}

/** Pure: words into lines of at most `width` characters; a word longer than that is cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = "";
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
