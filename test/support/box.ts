import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { rotate, waitForToken } from "../../src/demo/sandbox.ts";
import type { SystemdContainer } from "../bed/systemd.ts";
import { waitUntil } from "./wait.ts";

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
  /** The way Claude Code replaces its file: temp + rename (the demo's own rotation). */
  const rotateInside = (token: string, expiresAt: number) => rotate({ credentials: join(box().root, "root/.claude/.credentials.json") }, token, expiresAt);
  async function waitInside(path: string, token: string, timeoutMs = 15_000) {
    await waitForToken([join(box().root, path)], token, timeoutMs).catch(async () => {
      throw new Error(`${path} never got the token:\n${await sh("journalctl -u oauth-sync --no-pager | tail -20")}`);
    });
  }
  /**
   * A user (made if missing) whose own systemd manager runs with linger, once it has finished starting; its uid. The
   * bus socket comes before the manager's own socket, which install's pre-flight looks for, and both before the
   * manager is done: waiting for the bus alone once let `install --user` find no manager.
   */
  async function lingeringUser(name: string): Promise<number> {
    await sh(`id ${name} >/dev/null 2>&1 || useradd -m ${name}`);
    const uid = Number(await sh(`id -u ${name}`));
    await sh(`loginctl enable-linger ${name}`);
    const probe = `test -S /run/user/${uid}/systemd/private && test -S /run/user/${uid}/bus && systemctl --user --machine=${name}@ is-system-running`;
    await waitUntil(`${name}'s systemd manager`, async () => ["running", "degraded"].includes((await box().exec(["sh", "-c", probe])).stdout.trim()), {
      timeoutMs: 30_000,
      intervalMs: 100,
      detail: async () => (await box().exec(["systemctl", "status", "--no-pager", `user@${uid}.service`])).stdout,
    });
    return uid;
  }
  return { sh, writeInside, rotateInside, waitInside, lingeringUser };
}
