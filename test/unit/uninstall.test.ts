import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InstallLayout } from "../../src/install/plan.ts";
import { uninstall } from "../../src/install/uninstall.ts";
import type { ProcessRunner } from "../../src/process/run.ts";

/** `uninstall` on real files in a scratch layout; systemctl is a runner seam that answers as a unit-less host does. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const run: ProcessRunner = async () => ({ code: 0, stdout: "", stderr: "", timedOut: false });

function layoutWith(stateDirName: string) {
  const root = mkdtempSync(join(tmpdir(), "oauth-sync-uninstall-"));
  dirs.push(root);
  const stateDir = join(root, stateDirName);
  mkdirSync(join(root, "etc/oauth-sync"), { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(join(root, "units"));
  mkdirSync(join(root, "bin"));
  const layout: InstallLayout = {
    user: false,
    binary: join(root, "bin/oauth-sync"),
    configPath: join(root, "etc/oauth-sync/config.json"),
    unitDir: join(root, "units"),
    manifest: join(stateDir, "install.json"),
    systemctl: ["systemctl"],
  };
  writeFileSync(layout.configPath, JSON.stringify({ credentials: "/root/.claude/.credentials.json", stateDir, targets: [] }));
  writeFileSync(join(stateDir, "state.json"), '{"version":1}');
  writeFileSync(layout.manifest, JSON.stringify({ version: "0.2.0", binary: layout.binary, configPath: layout.configPath, stateDir, units: [], user: false }));
  return { root, stateDir, layout };
}

describe("uninstall --purge", () => {
  test("after a plain uninstall (the manifest gone), the config still names the state directory: it goes too", async () => {
    const { stateDir, layout } = layoutWith("oauth-sync");
    const plain = await uninstall(layout, { purge: false, run });
    expect(plain.problems).toEqual([]);
    expect(existsSync(layout.manifest)).toBe(false);
    expect(existsSync(join(stateDir, "state.json"))).toBe(true);
    const purged = await uninstall(layout, { purge: true, run });
    expect(purged.problems).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(layout.configPath)).toBe(false);
  });

  test("a state directory not named oauth-sync keeps everything but oauth-sync's own files", async () => {
    const { stateDir, layout } = layoutWith("srv-state");
    writeFileSync(join(stateDir, "someone-elses.db"), "keep me");
    const purged = await uninstall(layout, { purge: true, run });
    expect(purged.problems).toEqual([]);
    expect(existsSync(join(stateDir, "someone-elses.db"))).toBe(true);
    expect(existsSync(join(stateDir, "state.json"))).toBe(false);
    expect(existsSync(layout.manifest)).toBe(false);
  });
});
