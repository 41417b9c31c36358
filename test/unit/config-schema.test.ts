/**
 * The JSON Schema that `oauth-sync config schema` prints, checked with a real validator (ajv, JSON Schema 2020-12)
 * against every config example in README.md and docs/, and against the loader itself.
 */
import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020.js";
import { configJsonSchema } from "../../src/config/json-schema.ts";
import { parseConfig } from "../../src/config/load.ts";
import { codeBlocks, docPages, type CodeBlock } from "../support/markdown.ts";

type Json = Record<string, unknown>;
const schema = configJsonSchema();
// strictRequired is ajv's lint against a `required` naming a property the same subschema does not define: the signal
// gateway's "pidFile or unit" is exactly that, and valid JSON Schema.
const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(schema);
const CONFIG_KEYS = Object.keys(schema.properties as Json);
/** A fragment shows some sections of a config; this is the rest a loader needs. */
const FRAGMENT_BASE = { targets: [{ kind: "env-file", path: "/opt/openclaw/.env" }] };

const blocks = docPages().flatMap(codeBlocks);
const configs = blocks.filter((b) => b.info.includes("oauth-sync-config"));
const fragments = blocks.filter((b) => b.info.includes("oauth-sync-config-fragment"));

function exampleConfig(block: CodeBlock): unknown {
  if (block.info.includes("oauth-sync-config")) return JSON.parse(block.text);
  return { ...FRAGMENT_BASE, ...JSON.parse(`{${block.text}}`) };
}

function ajvErrors(): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
}

/** Every object schema in the tree, with where it is. */
function objectSchemas(node: unknown, at = "#"): Array<{ at: string; node: Json }> {
  if (typeof node !== "object" || node === null) return [];
  const found: Array<{ at: string; node: Json }> = [];
  const json = node as Json;
  if (json.properties) found.push({ at, node: json });
  for (const [key, child] of Object.entries(json)) {
    if (Array.isArray(child)) child.forEach((c, i) => found.push(...objectSchemas(c, `${at}/${key}/${i}`)));
    else if (typeof child === "object") found.push(...objectSchemas(child, `${at}/${key}`));
  }
  return found;
}

describe("config JSON Schema", () => {
  test("only keys without a default are required: a config needs nothing but its targets", () => {
    expect(schema.required).toEqual(["targets"]);
    const wronglyRequired = objectSchemas(schema).flatMap(({ at, node }) =>
      ((node.required as string[] | undefined) ?? []).filter((key) => "default" in ((node.properties as Json)[key] as Json)).map((key) => `${at}.${key}`),
    );
    expect(wronglyRequired).toEqual([]);
    expect(validate({ targets: [{ kind: "openclaw-cli" }] })).toBe(true);
  });

  test("every field has a description", () => {
    const undescribed = objectSchemas(schema).flatMap(({ at, node }) =>
      Object.entries(node.properties as Json)
        .filter(([, field]) => typeof (field as Json).description !== "string" || !(field as Json).description)
        .map(([key]) => `${at}.${key}`),
    );
    expect(undescribed).toEqual([]);
  });

  test("stateDir has no stated default (it depends on the user) but says what it is", () => {
    const stateDir = (schema.properties as Json).stateDir as Json;
    expect("default" in stateDir).toBe(false);
    expect(stateDir.description).toContain("/var/lib/oauth-sync");
  });

  test("the docs mark their config examples, and ajv and the loader accept every one", () => {
    expect(configs.map((b) => b.file)).toContain("README.md");
    for (const block of [...configs, ...fragments]) {
      const config = exampleConfig(block);
      const where = `${block.file}:${block.line}`;
      expect(`${where} ${validate(config) ? "valid" : ajvErrors()}`).toBe(`${where} valid`);
      const loaded = parseConfig(JSON.stringify(config), "/etc/oauth-sync/config.json");
      expect(`${where} ${loaded.ok ? "ok" : loaded.errors.join("; ")}`).toBe(`${where} ok`);
    }
  });

  test("no unmarked json block in the docs looks like a config", () => {
    const unmarked = blocks.filter((b) => b.info[0] === "json" && !configs.includes(b) && !fragments.includes(b));
    const lookalikes = unmarked.filter((b) => {
      for (const text of [b.text, `{${b.text}}`]) {
        try {
          const keys = Object.keys(JSON.parse(text));
          return keys.length > 0 && keys.every((k) => CONFIG_KEYS.includes(k));
        } catch {}
      }
      return false;
    });
    expect(lookalikes.map((b) => `${b.file}:${b.line}`)).toEqual([]);
  });

  test("ajv and the loader agree on what they refuse", () => {
    const refused: unknown[] = [
      {},
      { targets: [] },
      { targets: [{ kind: "openclaw-sqlite", path: "/x" }] },
      { targets: [{ kind: "env-file" }] },
      { targets: [{ kind: "env-file", path: "/x", variable: "1BAD" }] },
      { ...FRAGMENT_BASE, extra: 1 },
      { ...FRAGMENT_BASE, watch: { quietMs: -1 } },
      { ...FRAGMENT_BASE, trigger: { container: "c" } },
      { ...FRAGMENT_BASE, gateway: { projectDir: "/opt/oc" } },
      { ...FRAGMENT_BASE, gateway: { kind: "signal" } },
      { ...FRAGMENT_BASE, gateway: { kind: "signal", pidFile: "/run/g.pid", unit: "g.service" } },
      { ...FRAGMENT_BASE, refresh: { windowSeconds: 600 } },
      { ...FRAGMENT_BASE, notify: { webhooks: [{ url: "ftp://x", format: "json" }] } },
    ];
    for (const config of refused) {
      const text = JSON.stringify(config);
      expect(`${text}: ajv ${validate(config)}, loader ${parseConfig(text, "/c.json").ok}`).toBe(`${text}: ajv false, loader false`);
    }
    const accepted: unknown[] = [
      { ...FRAGMENT_BASE, trigger: {}, gateway: {}, watch: {}, refresh: {}, notify: {} },
      { ...FRAGMENT_BASE, trigger: { user: "alice" } },
      { ...FRAGMENT_BASE, trigger: { mode: "container", container: "oc" }, gateway: { kind: "compose", projectDir: "/opt/oc" } },
      { ...FRAGMENT_BASE, gateway: { kind: "signal", unit: "openclaw-gateway.service" } },
    ];
    for (const config of accepted) {
      const text = JSON.stringify(config);
      expect(`${text}: ajv ${validate(config) || ajvErrors()}, loader ${parseConfig(text, "/c.json").ok}`).toBe(`${text}: ajv true, loader true`);
    }
  });
});
