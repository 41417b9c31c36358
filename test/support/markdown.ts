import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");

/** README.md and every docs/*.md, by path relative to the repository. */
export function docPages(): string[] {
  return ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
}

export interface CodeBlock {
  file: string;
  line: number;
  /** The fence's info string: "json oauth-sync-config" → ["json", "oauth-sync-config"]. */
  info: string[];
  text: string;
}

/** Every fenced code block of a markdown page. */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(```+)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith(open[1]!) && line.trim() === open[1]);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    blocks.push({ file, line: i + 1, info: open[2]!.trim().split(/\s+/).filter(Boolean), text: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return blocks;
}
