import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { migrateConfig } from "../../src/config/migrate.ts";

const TARGETS = [{ kind: "env-file", path: "/srv/oc/.env" }];

describe("migrateConfig: forms earlier releases accepted", () => {
  test("null meant the default (defu skipped it): removed, one note per key naming it", () => {
    const { raw, notes } = migrateConfig({ targets: TARGETS, watch: { reconcileSeconds: null, retrySeconds: 10 }, gateway: null, notify: { webhooks: null } });
    expect(raw).toEqual({ targets: TARGETS, watch: { retrySeconds: 10 }, notify: {} });
    expect(notes).toEqual([
      'watch.reconcileSeconds: null removed (earlier releases read null as "the default", which applies now too: delete the line)',
      'gateway: null removed (earlier releases read null as "the default", which applies now too: delete the line)',
      'notify.webhooks: null removed (earlier releases read null as "the default", which applies now too: delete the line)',
    ]);
  });

  test("a target's null setting is named with its index; a null item in an array is left for the schema", () => {
    const { raw, notes } = migrateConfig({ targets: [{ kind: "env-file", path: "/x/.env", variable: null }, null] });
    expect(raw).toEqual({ targets: [{ kind: "env-file", path: "/x/.env" }, null] });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toStartWith("targets[0].variable: null removed");
  });

  test("a renamed key moves to its new name (every target with *); set twice, the old one is reported and left", () => {
    const renames = [
      { from: ["watch", "reconcile"], to: "reconcileSeconds", since: "0.2.0" },
      { from: ["targets", "*", "file"], to: "path", since: "0.2.0" },
    ];
    const moved = migrateConfig({ targets: [{ kind: "env-file", file: "/a/.env" }, { kind: "env-file", path: "/b/.env" }], watch: { reconcile: 60 } }, { renamed: renames });
    expect(moved.raw).toEqual({ targets: [{ kind: "env-file", path: "/a/.env" }, { kind: "env-file", path: "/b/.env" }], watch: { reconcileSeconds: 60 } });
    expect(moved.notes).toEqual(['watch.reconcile: renamed to "reconcileSeconds" in 0.2.0: moved', 'targets[0].file: renamed to "path" in 0.2.0: moved']);
    const both = migrateConfig({ targets: TARGETS, watch: { reconcile: 60, reconcileSeconds: 90 } }, { renamed: renames });
    expect(both.raw).toEqual({ targets: TARGETS, watch: { reconcile: 60, reconcileSeconds: 90 } });
    expect(both.notes).toEqual(['watch.reconcile: renamed to "reconcileSeconds" in 0.2.0, and "reconcileSeconds" is set too: remove "reconcile"']);
  });

  test("today's form is left exactly as it is, without notes", () => {
    const raw = { targets: TARGETS, watch: { reconcileSeconds: 600 }, notify: { webhooks: [{ url: "https://hooks.example/x", format: "slack" }] } };
    expect(migrateConfig(raw)).toEqual({ raw, notes: [] });
  });
});

describe("the loader migrates before it validates", () => {
  test("null where there is no default (targets) was never valid: kept, and the schema's line says what to give", () => {
    const result = parseConfig(JSON.stringify({ targets: null, gateway: null }), "/etc/oauth-sync/config.json");
    if (result.ok) throw new Error("targets: null must not load");
    expect(result.errors.join("\n")).toContain("targets: null is not accepted here (array expected): give an array");
    expect(result.errors.join("\n")).not.toContain("gateway");
  });

  test("a config with null values loads (it failed with `expected object, received null`) and says what changed", () => {
    const result = parseConfig(JSON.stringify({ targets: TARGETS, gateway: null, watch: { reconcileSeconds: null } }), "/etc/oauth-sync/config.json");
    if (!result.ok) throw new Error(result.errors.join("; "));
    expect(result.config.gateway).toEqual({ kind: "none" });
    expect(result.config.watch.reconcileSeconds).toBe(1800);
    expect(result.notes.map((n) => n.split(":")[0])).toEqual(["gateway", "watch.reconcileSeconds"]);
  });
});
