import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Bind mounts need root (CAP_SYS_ADMIN) and a mount namespace that allows them: probed by doing one. */
export function canBindMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), "oauth-sync-mount-probe-"));
  try {
    if (Bun.spawnSync(["mount", "--bind", dir, dir]).exitCode !== 0) return false;
    return Bun.spawnSync(["umount", dir]).exitCode === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
