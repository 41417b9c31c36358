/** The verbs the compiled binary offers are the ones docs/ARCHITECTURE.md lists. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../support/binary.ts";
import { ROOT } from "../support/markdown.ts";

/** The verbs in the `src/commands/` paragraph of the map: "one small file per verb (`watch`, `sync`, …)". */
function documentedVerbs(): string[] {
  const row = readFileSync(join(ROOT, "docs/ARCHITECTURE.md"), "utf8")
    .split("\n")
    .find((line) => line.startsWith("**`src/commands/`**"));
  const list = row && /one small file per verb \(([^)]*)\)/.exec(row)?.[1];
  if (!list) throw new Error("docs/ARCHITECTURE.md has no `src/commands/` paragraph listing the verbs");
  return [...list.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!).sort();
}

/** The verbs under COMMANDS in `oauth-sync --help`. */
function helpVerbs(help: string): string[] {
  const section = help.split(/^COMMANDS$/m)[1]?.split(/^Use /m)[0] ?? "";
  return [...section.matchAll(/^\s+([a-z-]+)\s{2,}/gm)].map((m) => m[1]!).sort();
}

describe("commands", () => {
  test("docs/ARCHITECTURE.md lists exactly the verbs of `oauth-sync --help`", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    const verbs = helpVerbs(stdout);
    expect(verbs.length).toBeGreaterThan(5);
    expect(documentedVerbs()).toEqual(verbs);
  });
});
