import { describe, expect, test } from "bun:test";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { applyModelConfig, findTraps, fixedModelConfig } from "../../src/install/model-config.ts";
import { tempDirs } from "../support/temp.ts";

const temp = tempDirs();

const trapped = {
  agents: { defaults: { model: { primary: "openai/gpt-5.5", fallbacks: ["x/y"] }, workspace: "/w" } },
  models: { providers: { anthropic: { baseUrl: "https://api.anthropic.com/v1" }, litellm: { baseUrl: "http://proxy:4000/v1/", apiKey: "k" } } },
  gateway: { port: 18789 },
};

describe("openclaw.json model settings", () => {
  test("both traps are found: an anthropic provider entry and a baseUrl ending in /v1", () => {
    const traps = findTraps(trapped);
    expect(traps.map((t) => t.path)).toEqual(["models.providers.anthropic", "models.providers.anthropic.baseUrl", "models.providers.litellm.baseUrl"]);
    expect(traps[1]!.problem).toContain("/v1/v1/messages");
    expect(findTraps({ models: { providers: { litellm: { baseUrl: "http://proxy:4000" } } } })).toEqual([]);
  });

  test("fixes touch only what is wrong; the primary model is set only when asked", () => {
    const fixed = fixedModelConfig(trapped, {});
    expect(fixed.models).toEqual({ providers: { litellm: { baseUrl: "http://proxy:4000", apiKey: "k" } } });
    expect(fixed.agents).toEqual(trapped.agents);
    expect(fixed.gateway).toEqual(trapped.gateway);
    const withModel = fixedModelConfig({}, { primaryModel: "anthropic/claude-sonnet-4-5" });
    expect(withModel).toEqual({ agents: { defaults: { model: { primary: "anthropic/claude-sonnet-4-5" } } } });
    expect(fixedModelConfig(trapped, { primaryModel: "anthropic/claude-opus-4-5" }).agents).toEqual({
      defaults: { model: { primary: "anthropic/claude-opus-4-5", fallbacks: ["x/y"] }, workspace: "/w" },
    });
  });

  test("an allowlist of models in use gets the primary with its alias; none is created where there was none", () => {
    const withList = { agents: { defaults: { models: { "openai/gpt-5.5": { alias: "gpt" } } } } };
    expect(fixedModelConfig(withList, { primaryModel: "anthropic/claude-opus-4-5" }).agents).toEqual({
      defaults: { model: { primary: "anthropic/claude-opus-4-5" }, models: { "openai/gpt-5.5": { alias: "gpt" }, "anthropic/claude-opus-4-5": { alias: "opus" } } },
    });
    expect((fixedModelConfig({}, { primaryModel: "anthropic/claude-opus-4-5" }).agents as { defaults: object }).defaults).not.toHaveProperty("models");
  });

  test("plain JSON is rewritten in place; JSON5 with comments is backed up first and the loss is said", async () => {
    const dir = temp("oauth-sync-model-");
    const plain = join(dir, "openclaw.json");
    await writeFile(plain, JSON.stringify(trapped, null, 2));
    expect(await applyModelConfig(plain, {})).toEqual({ changed: true, backup: undefined, note: undefined });
    expect(findTraps(JSON.parse(await readFile(plain, "utf8")))).toEqual([]);
    expect(await applyModelConfig(plain, {})).toEqual({ changed: false });

    const json5 = join(dir, "json5", "openclaw.json");
    await Bun.write(json5, `{\n  // my gateway\n  models: { providers: { anthropic: { baseUrl: "https://api.anthropic.com/v1" } } },\n}\n`);
    expect(await applyModelConfig(json5, {}, 1234)).toEqual({ changed: true });
    expect(await readFile(json5, "utf8")).toBe(`{\n  // my gateway\n  models: { providers: {  } },\n}\n`);
    expect(await readdir(join(dir, "json5"))).toHaveLength(1);
  });

  test("JSON5 keeps its comments, quotes and layout: traps fixed and the primary set by text edits", async () => {
    const dir = temp("oauth-sync-model5-");
    const path = join(dir, "openclaw.json");
    const text = `// OpenClaw config
{
  agents: {
    defaults: {
      workspace: '/home/node/work', // where agents live
      models: { 'openai/gpt-5.5': { alias: 'gpt' } },
    },
  },
  models: {
    providers: {
      /* the proxy */
      litellm: { baseUrl: 'http://proxy:4000/v1/', apiKey: 'k' },
      anthropic: {
        baseUrl: "https://api.anthropic.com/v1",
      },
    },
  },
}
`;
    await writeFile(path, text);
    expect(await applyModelConfig(path, { primaryModel: "anthropic/claude-opus-4-5" })).toEqual({ changed: true });
    const after = await readFile(path, "utf8");
    for (const kept of ["// OpenClaw config", "// where agents live", "/* the proxy */", "workspace: '/home/node/work',", "apiKey: 'k'"]) expect(after).toContain(kept);
    expect(after).not.toContain("anthropic: {");
    expect(Bun.JSON5.parse(after)).toEqual(fixedModelConfig(Bun.JSON5.parse(text) as Record<string, unknown>, { primaryModel: "anthropic/claude-opus-4-5" }));
    expect(await readdir(dir)).toHaveLength(1);
  });

  test("plain JSON keeps its indentation and stays valid JSON when its last member goes", async () => {
    const dir = temp("oauth-sync-model4-");
    const path = join(dir, "openclaw.json");
    await writeFile(path, JSON.stringify({ gateway: { port: 1 }, models: { providers: { litellm: { baseUrl: "http://p" }, anthropic: {} } } }, null, 4));
    expect(await applyModelConfig(path, { primaryModel: "anthropic/claude-sonnet-4-5" })).toEqual({ changed: true });
    const after = await readFile(path, "utf8");
    expect(JSON.parse(after)).toEqual({ agents: { defaults: { model: { primary: "anthropic/claude-sonnet-4-5" } } }, gateway: { port: 1 }, models: { providers: { litellm: { baseUrl: "http://p" } } } });
    expect(after).toContain('\n    "gateway": {\n        "port": 1\n    },');
  });

  test("a layout the editor cannot follow is backed up and rewritten, and the loss is said", async () => {
    const dir = temp("oauth-sync-model-fallback-");
    const path = join(dir, "openclaw.json");
    // JSON5 allows Unicode identifiers as keys; the small editor does not.
    const text = `{\n  // note\n  модель: 1,\n  models: { providers: { anthropic: {} } },\n}\n`;
    await writeFile(path, text);
    const result = await applyModelConfig(path, {}, 99);
    expect(result).toMatchObject({ changed: true, backup: `${path}.bak-oauth-sync-99` });
    expect((result as { note: string }).note).toContain("comments lost");
    expect(await readFile(`${path}.bak-oauth-sync-99`, "utf8")).toBe(text);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ модель: 1, models: { providers: {} } });
  });
});
