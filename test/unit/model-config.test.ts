import { describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyModelConfig, findTraps, fixedModelConfig } from "../../src/install/model-config.ts";

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
    const dir = await mkdtemp(join(tmpdir(), "oauth-sync-model-"));
    const plain = join(dir, "openclaw.json");
    await writeFile(plain, JSON.stringify(trapped, null, 2));
    expect(await applyModelConfig(plain, {})).toEqual({ changed: true, backup: undefined, note: undefined });
    expect(findTraps(JSON.parse(await readFile(plain, "utf8")))).toEqual([]);
    expect(await applyModelConfig(plain, {})).toEqual({ changed: false });

    const json5 = join(dir, "json5", "openclaw.json");
    await Bun.write(json5, `{\n  // my gateway\n  models: { providers: { anthropic: { baseUrl: "https://api.anthropic.com/v1" } } },\n}\n`);
    const original = await readFile(json5, "utf8");
    const result = await applyModelConfig(json5, {}, 1234);
    expect(result).toMatchObject({ changed: true, backup: `${json5}.bak-oauth-sync-1234` });
    expect(await readFile(`${json5}.bak-oauth-sync-1234`, "utf8")).toBe(original);
    expect(JSON.parse(await readFile(json5, "utf8"))).toEqual({ models: { providers: {} } });
    expect(await readdir(join(dir, "json5"))).toHaveLength(2);
  });
});
