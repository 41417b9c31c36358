import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_DOC, configReference } from "../../src/config/reference.ts";
import { configJsonSchema } from "../../src/config/json-schema.ts";
import { ROOT } from "../support/markdown.ts";

describe("docs/CONFIG.md", () => {
  test("is what `bun run docs:config` generates from the schema today", () => {
    const page = readFileSync(CONFIG_DOC, "utf8");
    // On a mismatch: the schema changed without `bun run docs:config`, or the page was edited by hand.
    expect(page).toBe(configReference());
  });

  test("has a row for every key of every section, with the key's description", () => {
    const page = readFileSync(CONFIG_DOC, "utf8");
    const missing: string[] = [];
    const visit = (node: unknown) => {
      if (typeof node !== "object" || node === null) return;
      const json = node as Record<string, unknown>;
      for (const [key, field] of Object.entries((json.properties as Record<string, { description: string }>) ?? {})) {
        if (!page.includes(`| \`${key}\` |`) || !page.includes(field.description.replaceAll("|", "\\|"))) missing.push(key);
      }
      for (const child of Object.values(json)) (Array.isArray(child) ? child : [child]).forEach(visit);
    };
    visit(configJsonSchema());
    expect(missing).toEqual([]);
  });

  test("README links it", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("](docs/CONFIG.md)");
  });
});
