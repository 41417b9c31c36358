import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { credentialsJson } from "../../src/demo/sandbox.ts";
import type { SystemdContainer } from "../bed/systemd.ts";

/** Shell, files and token rotations inside a booted systemd container (the box is looked up when used). */
export function boxHelpers(box: () => SystemdContainer) {
  async function sh(script: string) {
    const result = await box().exec(["sh", "-c", script]);
    if (result.code !== 0) throw new Error(`${script}: exit ${result.code}\n${result.stdout}${result.stderr}`);
    return result.stdout.trim();
  }
  async function writeInside(path: string, text: string, mode = 0o600) {
    await mkdir(join(box().root, path, ".."), { recursive: true });
    await writeFile(join(box().root, path), text, { mode });
  }
  /** The way Claude Code replaces its file: temp + rename. */
  async function rotateInside(token: string, expiresAt: number) {
    const file = join(box().root, "root/.claude/.credentials.json");
    await writeFile(`${file}.tmp`, credentialsJson(token, expiresAt), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
  async function waitInside(path: string, token: string, timeoutMs = 15_000) {
    const started = Date.now();
    while (!(await readFile(join(box().root, path), "utf8").catch(() => "")).includes(token)) {
      if (Date.now() - started > timeoutMs) throw new Error(`${path} never got the token:\n${await sh("journalctl -u oauth-sync --no-pager | tail -20")}`);
      await Bun.sleep(50);
    }
  }
  return { sh, writeInside, rotateInside, waitInside };
}
