import { describe, expect, test } from "bun:test";
import type { LocalTargetConfig } from "../../src/config/schema.ts";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";
import { runProcess } from "../../src/process/run.ts";
import { createTarget } from "../../src/targets/index.ts";
import { pasteTokenArgv } from "../../src/targets/openclaw-cli.ts";
import { tempDirs } from "../support/temp.ts";

const temp = tempDirs();

const YEAR = 365 * 24 * 3_600_000;

/** A store holding a one-year token (what `claude setup-token` gives and `openclaw onboard --token` stores). */
async function longLivedStore() {
  const dir = temp("oauth-sync-newer-");
  const path = join(dir, "auth-profiles.json");
  const held = fakeToken();
  await writeFile(path, JSON.stringify({ version: 1, profiles: { "anthropic:default": { type: "token", provider: "anthropic", token: held, expires: Date.now() + YEAR } } }));
  return { path, held };
}

function target(path: string, extra: Record<string, unknown> = {}) {
  const parsed = parseConfig(JSON.stringify({ credentials: "/c.json", targets: [{ kind: "openclaw-auth-profiles", path, ...extra }] }), "/etc/oauth-sync/config.json");
  if (!parsed.ok) throw new Error(parsed.errors.join());
  return createTarget(parsed.config.targets[0] as LocalTargetConfig);
}

describe("a newer (long-lived) token in a target", () => {
  const credentials = () => ({ accessToken: fakeToken(), refreshToken: fakeToken("ort"), expiresAt: Date.now() + 8 * 3_600_000 });

  test("refused by default, and the refusal names both ways out", async () => {
    const { path, held } = await longLivedStore();
    const outcome = await target(path).sync(credentials(), { now: Date.now(), state: undefined, run: runProcess });
    expect(outcome.status).toBe("refused");
    expect(outcome.message).toContain('"replaceNewer": true');
    expect(outcome.message).toContain("oauth-sync sync --force");
    expect(await readFile(path, "utf8")).toContain(held);
  });

  test("replaced with replaceNewer: true, or once with force", async () => {
    for (const [extra, force] of [[{ replaceNewer: true }, false], [{}, true]] as const) {
      const { path, held } = await longLivedStore();
      const c = credentials();
      const outcome = await target(path, extra).sync(c, { now: Date.now(), state: undefined, run: runProcess, force });
      expect(outcome.status).toBe("written");
      const text = await readFile(path, "utf8");
      expect([text.includes(c.accessToken), text.includes(held)]).toEqual([true, false]);
    }
  });
});

describe("openclaw-cli with an agent", () => {
  test("--agent ID goes into paste-token's argv; the token never does", () => {
    const parsed = parseConfig(JSON.stringify({ credentials: "/c.json", targets: [{ kind: "openclaw-cli", agent: "work", user: "ana" }] }), "/etc/oauth-sync/config.json");
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const t = parsed.config.targets[0]!;
    if (t.kind !== "openclaw-cli") throw new Error("kind");
    const token = fakeToken();
    const argv = pasteTokenArgv(t, { accessToken: token, refreshToken: "", expiresAt: Date.now() + 3_600_000 }, Date.now());
    expect(argv.slice(0, 8)).toEqual(["openclaw", "models", "auth", "paste-token", "--provider", "anthropic", "--agent", "work"]);
    expect(argv.join(" ")).not.toContain(token);
    expect(createTarget(t).id).toBe("openclaw-cli:work:anthropic:default");
  });
});
