import { describe, expect, test } from "bun:test";
import { mergedOver } from "../../src/install/receiver.ts";
import { applyUpgrade, formatPlan, planUpgrade, targetIdentity, type UpgradeChoices } from "../../src/install/upgrade.ts";

const none: UpgradeChoices = { take: new Set(), drop: new Set() };
const PROFILES = "/root/.openclaw/agents/main/agent/auth-profiles.json";
const STRAY = "/root/.openclaw}/agents/main/agent/auth-profiles.json";

/** What an earlier install wrote, then edited by hand: webhooks, a timing, another trigger, a target of their own. */
const edited = {
  credentials: "/root/.claude/.credentials.json",
  targets: [
    { kind: "openclaw-auth-profiles", path: STRAY },
    { kind: "env-file", path: "/srv/other/.env", variable: "MY_TOKEN" },
    { kind: "ssh", host: "gw2", user: "root", identityFile: "/etc/oauth-sync/ssh/id_ed25519", knownHostsFile: "/etc/oauth-sync/ssh/known_hosts" },
  ],
  gateway: { kind: "compose", projectDir: "/opt/openclaw", files: ["/opt/openclaw/docker-compose.yml"], service: "openclaw-gateway" },
  trigger: { mode: "none" },
  watch: { reconcileSeconds: 600 },
  notify: { webhooks: [{ url: "https://hooks.example.invalid/T/secret", format: "slack" }] },
};
const proposal = {
  credentials: "/root/.claude/.credentials.json",
  targets: [{ kind: "openclaw-auth-profiles", path: PROFILES, reload: false }],
  gateway: { kind: "compose", projectDir: "/opt/openclaw", files: ["/opt/openclaw/docker-compose.yml", "/opt/openclaw/docker-compose.extra.yml"], service: "openclaw-gateway" },
  trigger: { mode: "host" },
};

describe("planUpgrade: what detection adds and what it would change", () => {
  const plan = planUpgrade(edited, proposal);
  test("a new target is an addition; the operator's targets detection does not propose are stale (a pushed host is theirs), none lost", () => {
    expect(plan.added).toEqual([`target openclaw-auth-profiles ${PROFILES}`]);
    expect(plan.stale.map((s) => s.id)).toEqual([`openclaw-auth-profiles ${STRAY}`, "env-file /srv/other/.env"]);
  });
  test("a differing value is a correction, yours against detected (an array compared whole, not concatenated)", () => {
    expect(plan.corrections).toEqual([
      { path: "gateway.files", yours: ["/opt/openclaw/docker-compose.yml"], detected: ["/opt/openclaw/docker-compose.yml", "/opt/openclaw/docker-compose.extra.yml"] },
      { path: "trigger", yours: { mode: "none" }, detected: { mode: "host" } },
    ]);
  });
  test("settings only the operator wrote are listed as kept; a webhook URL is never shown", () => {
    expect(plan.yoursOnly).toEqual(["target ssh root@gw2:22", "watch (reconcileSeconds)", "notify (1 webhook(s))"]);
    const text = formatPlan(plan, "/etc/oauth-sync/config.json").join("\n");
    expect(text).not.toContain("hooks.example");
    expect(text).toContain("~ trigger: yours {\"mode\":\"none\"}, detected {\"mode\":\"host\"}");
  });
});

describe("targets detection never proposes", () => {
  test("exec, json-file and ssh targets are the operator's: never stale, so --prune cannot drop them", () => {
    const mine = {
      ...edited,
      targets: [
        ...edited.targets,
        { kind: "exec", user: "vault", command: ["/usr/local/bin/store-token"] },
        { kind: "json-file", path: "/srv/app/config.json", tokenPointer: "/auth/token" },
      ],
    };
    const plan = planUpgrade(mine, proposal);
    expect(plan.stale.map((s) => s.id)).toEqual([`openclaw-auth-profiles ${STRAY}`, "env-file /srv/other/.env"]);
    expect(plan.yoursOnly.filter((line) => line.startsWith("target"))).toEqual([
      "target ssh root@gw2:22",
      'target exec ["/usr/local/bin/store-token"]',
      "target json-file /srv/app/config.json",
    ]);
    const pruned = applyUpgrade(mine, proposal, plan, { take: new Set(), drop: new Set(plan.stale.map((s) => s.id)) });
    expect((pruned.targets as Array<{ kind: string }>).map((t) => t.kind)).toEqual(["ssh", "exec", "json-file", "openclaw-auth-profiles"]);
  });
});

describe("applyUpgrade: the operator's values over the proposal", () => {
  test("--yes: additions in, nothing of theirs dropped or changed", () => {
    const plan = planUpgrade(edited, proposal);
    const next = applyUpgrade(edited, proposal, plan, none);
    expect(next.watch).toEqual({ reconcileSeconds: 600 });
    expect(next.notify).toEqual(edited.notify);
    expect(next.trigger).toEqual({ mode: "none" });
    expect((next.gateway as { files: string[] }).files).toEqual(["/opt/openclaw/docker-compose.yml"]);
    expect((next.targets as unknown[]).length).toBe(4);
    expect(next.targets).toContainEqual({ kind: "openclaw-auth-profiles", path: PROFILES, reload: false });
    expect(next.targets).toContainEqual(edited.targets[2]);
    expect(Object.keys(next)).toEqual(Object.keys(edited)); // the file's own order
  });
  test("chosen corrections and drops apply; a section of another kind is replaced whole, never mixed", () => {
    const plan = planUpgrade(edited, proposal);
    const next = applyUpgrade(edited, proposal, plan, { take: new Set(["trigger", "gateway.files"]), drop: new Set([`openclaw-auth-profiles ${STRAY}`]) });
    expect(next.trigger).toEqual({ mode: "host" });
    expect((next.gateway as { files: string[] }).files).toHaveLength(2);
    expect((next.targets as Array<{ path?: string }>).map((t) => t.path)).toEqual(["/srv/other/.env", undefined, PROFILES]);
    const systemd = { ...edited, gateway: { kind: "systemd", unit: "openclaw-gateway.service", user: "ana" } };
    const kept = applyUpgrade(systemd, proposal, planUpgrade(systemd, proposal), none);
    expect(kept.gateway).toEqual(systemd.gateway);
  });
  test("a matched target keeps the operator's settings and gains the proposal's missing ones", () => {
    const mine = { credentials: "/c", targets: [{ kind: "openclaw-auth-profiles", path: PROFILES, profileId: "anthropic:work" }] };
    const next = applyUpgrade(mine, proposal, planUpgrade(mine, proposal), none);
    expect(next.targets).toEqual([{ kind: "openclaw-auth-profiles", path: PROFILES, profileId: "anthropic:work", reload: false }]);
    expect(mine.targets[0]).toEqual({ kind: "openclaw-auth-profiles", path: PROFILES, profileId: "anthropic:work" }); // inputs untouched
  });
  test("the same config again: no additions, corrections or stale targets", () => {
    const plan = planUpgrade(proposal, proposal);
    expect([plan.added, plan.corrections, plan.stale, plan.yoursOnly]).toEqual([[], [], [], []]);
    expect(applyUpgrade(proposal, proposal, plan, none)).toEqual(proposal);
  });
});

describe("targetIdentity: what a target writes to", () => {
  test("openclaw-cli targets are one per agent and OpenClaw, whatever the command's other words", () => {
    const a = { kind: "openclaw-cli", agent: "main", command: ["docker", "compose", "-f", "/opt/oc/docker-compose.yml", "exec", "-T", "openclaw-gateway", "openclaw"] };
    const b = { ...a, command: ["docker", "compose", "-f", "/opt/oc/docker-compose.yml", "-f", "/opt/oc/x.yml", "exec", "-T", "gw", "node", "dist/index.js"] };
    expect(targetIdentity(a)).toBe(targetIdentity(b));
    expect(targetIdentity({ ...a, agent: "work" })).not.toBe(targetIdentity(a));
    expect(targetIdentity({ kind: "openclaw-cli", command: ["podman", "exec", "-i", "openclaw", "openclaw"] })).toBe("openclaw-cli (single agent) openclaw");
    expect(targetIdentity({ kind: "openclaw-cli", user: "ana" })).toBe("openclaw-cli (single agent) ana");
  });
});

describe("install --receiver again: the receiver's config as the operator wrote it, with what detection adds", () => {
  const path = "/etc/oauth-sync/config.json";
  const theirs = {
    source: "push",
    targets: [{ kind: "openclaw-auth-profiles", path: PROFILES }, { kind: "exec", user: "vault", command: ["/usr/local/bin/store-token"] }],
    notify: { webhooks: [{ url: "https://hooks.example.invalid/T/secret", format: "slack" }] },
    gateway: { kind: "none" },
  };
  const detected = { source: "push", targets: [{ kind: "openclaw-auth-profiles", path: PROFILES, reload: false }, { kind: "env-file", path: "/opt/openclaw/.env" }], gateway: { kind: "compose", projectDir: "/opt/openclaw", service: "openclaw-gateway" } };

  test("webhooks, their exec target and their gateway stay; a new target is added", () => {
    const merged = mergedOver(JSON.stringify(theirs), JSON.stringify(detected), path);
    if (!merged.ok) throw new Error(merged.error);
    const next = JSON.parse(merged.text);
    expect(next.notify).toEqual(theirs.notify);
    expect(next.gateway).toEqual({ kind: "none" });
    expect(next.targets).toEqual([{ kind: "openclaw-auth-profiles", path: PROFILES, reload: false }, theirs.targets[1], { kind: "env-file", path: "/opt/openclaw/.env" }]);
  });

  test("a receiver config that is not JSON is not replaced: one line naming the file and what to do", () => {
    const merged = mergedOver("{ oops", JSON.stringify(detected), path);
    expect(merged.ok).toBe(false);
    if (!merged.ok) expect(merged.error).toStartWith(`${path} is not valid JSON`);
  });
});
