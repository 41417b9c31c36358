/** The docs match the binary: the verbs docs/ARCHITECTURE.md lists, and every `oauth-sync VERB --flag` the docs show. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../support/binary.ts";
import { docPages, ROOT } from "../support/markdown.ts";

/** The verbs in the `src/commands/` paragraph of the map: "one small file per verb (`watch`, `sync`, …)". */
function documentedVerbs(): string[] {
  const row = readFileSync(join(ROOT, "docs/ARCHITECTURE.md"), "utf8")
    .split("\n")
    .find((line) => line.startsWith("**`src/commands/`**"));
  const list = row && /one small file per verb \(([^)]*)\)/.exec(row)?.[1];
  if (!list) throw new Error("docs/ARCHITECTURE.md has no `src/commands/` paragraph listing the verbs");
  return [...list.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!).sort();
}

/** The verbs under "Commands:" in `oauth-sync --help` (or a group's help). */
function helpVerbs(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1]?.split(/^(?:Options:|\S)/m)[0] ?? "";
  return [...section.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!).sort();
}

/** The long flags a help page lists, `--[no-]sync` as both forms. */
function helpFlags(help: string): Set<string> {
  const flags = new Set<string>();
  for (const [, no, name] of help.matchAll(/--(\[no-\])?([a-z][a-z-]*)/g)) {
    flags.add(name!);
    if (no) flags.add(`no-${name}`);
  }
  return flags;
}

/** Every `oauth-sync VERB [SUB] … --flag …` in README.md and docs/*.md: the page, its line, the words and the flags. */
function documentedCommands(verbs: string[]): { where: string; verb: string; text: string; flags: string[] }[] {
  const found: { where: string; verb: string; text: string; flags: string[] }[] = [];
  for (const page of docPages()) {
    readFileSync(join(ROOT, page), "utf8")
      .split("\n")
      .forEach((line, i) => {
        // A command runs to the end of its code span, a comment, a pipe or the next command.
        for (const match of line.matchAll(/oauth-sync ((?:[a-z][a-z-]* ?){1,2})([^`|·;&#\n]*)/g)) {
          const [verb] = match[1]!.trim().split(" ");
          const flags = [...match[0].matchAll(/(?:^|\s)--([a-z][a-z-]*)/g)].map((m) => m[1]!);
          if (flags.length) found.push({ where: `${page}:${i + 1}`, verb: verbs.includes(verb!) ? match[1]!.trim() : verb!, text: match[0], flags });
        }
      });
  }
  return found;
}

describe("commands", () => {
  test("docs/ARCHITECTURE.md lists exactly the verbs of `oauth-sync --help`", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    const verbs = helpVerbs(stdout);
    expect(verbs.length).toBeGreaterThan(5);
    expect(documentedVerbs()).toEqual(verbs);
  });

  test("every `oauth-sync VERB --flag` that README.md and docs/*.md show is a flag of that verb in the binary", async () => {
    const verbs = helpVerbs((await run(["--help"])).stdout);
    const groups = new Map<string, string[]>();
    for (const verb of verbs) groups.set(verb, helpVerbs((await run(["help", verb])).stdout));
    const pages = new Map<string, Set<string>>();
    const flagsOf = async (words: string[]) => {
      const key = words.join(" ");
      if (!pages.has(key)) pages.set(key, helpFlags((await run(["help", ...words])).stdout));
      return pages.get(key)!;
    };
    const commands = documentedCommands(verbs);
    expect(commands.length).toBeGreaterThan(15);
    const wrong: string[] = [];
    for (const command of commands) {
      const [verb, sub] = command.verb.split(" ");
      if (!verbs.includes(verb!)) {
        wrong.push(`${command.where}: \`${command.text.trim()}\`: no verb ${verb}`);
        continue;
      }
      const words = sub && groups.get(verb!)?.includes(sub) ? [verb!, sub] : [verb!];
      const known = await flagsOf(words);
      for (const flag of command.flags) if (!known.has(flag)) wrong.push(`${command.where}: \`${command.text.trim()}\`: oauth-sync ${words.join(" ")} has no --${flag}`);
    }
    expect(wrong).toEqual([]);
  });
});
