import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { tempName } from "../../src/fs/atomic-write.ts";
import { listDir } from "../../src/fs/walk.ts";
import { isOurTemp, removeLeftoverTemps } from "../../src/targets/leftovers.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "oauth-sync-leftovers-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe("temp files a killed writer left behind", () => {
  test("recognised by the writer's own name for that file, nothing else", () => {
    expect(isOurTemp(tempName(".env"), ".env")).toBe(true);
    expect(isOurTemp(tempName("auth-profiles.json"), "auth-profiles.json")).toBe(true);
    expect(isOurTemp(tempName(".env"), "auth-profiles.json")).toBe(false);
    expect(isOurTemp(".env.oauth-sync-123.tmp", ".env")).toBe(false);
    expect(isOurTemp(".env.oauth-sync-0123456789ab.tmp.keep", ".env")).toBe(false);
    expect(isOurTemp(".env.tmp", ".env")).toBe(false);
  });

  test("removed at start beside each target and the state file; everything else stays", async () => {
    const env = join(dir, ".env");
    const stateDir = join(dir, "state");
    const parsed = parseConfig(JSON.stringify({ credentials: join(dir, "c.json"), stateDir, targets: [{ kind: "env-file", path: env }] }), join(dir, "config.json"));
    if (!parsed.ok) throw new Error(parsed.errors.join());
    const ours = [join(dir, tempName(".env")), join(dir, tempName(".env")), join(stateDir, tempName("state.json"))];
    const others = [join(dir, ".env.bak"), join(dir, tempName("other.json")), join(dir, ".env")];
    await mkdir(stateDir, { mode: 0o700 });
    for (const path of [...ours, ...others]) await writeFile(path, "x");
    const removed = await removeLeftoverTemps(parsed.config);
    expect(removed.sort()).toEqual(ours.sort());
    for (const path of others) expect(await Bun.file(path).exists()).toBe(true);
    expect(await readdir(stateDir)).toEqual([]);
  });
});

describe("listing a directory someone else may fill", () => {
  test("at most the limit's names are read; a directory that cannot be opened lists none", async () => {
    for (let i = 0; i < 40; i++) await writeFile(join(dir, `agent-${i}`), "");
    expect(listDir(dir)).toHaveLength(40);
    expect(listDir(dir, 7)).toHaveLength(7);
    expect(listDir(join(dir, "missing"))).toEqual([]);
  });
});
