import { readFile, rm, unlink } from "node:fs/promises";
import { logger } from "../log/logger.ts";
import type { ProcessRunner } from "../process/run.ts";
import { UNIT_NAMES } from "../systemd/units.ts";
import { join } from "node:path";
import { command } from "./install.ts";
import type { InstallLayout, Manifest } from "./plan.ts";

/** Stop and remove what install put in place (by its manifest); config and state stay unless `purge`. Idempotent. */
export async function uninstall(layout: InstallLayout, options: { purge: boolean; run: ProcessRunner }): Promise<string[]> {
  const manifest: Partial<Manifest> = JSON.parse(await readFile(layout.manifest, "utf8").catch(() => "{}"));
  const units = manifest.units ?? UNIT_NAMES.map((name) => join(layout.unitDir, name));
  const removed: string[] = [];
  const stop = await command([...layout.systemctl, "disable", "--now", "oauth-sync.service", "oauth-sync-check.timer", "oauth-sync-check.service"], options);
  if (stop && !/not loaded|does not exist|No such file/i.test(stop)) logger.warn(stop);
  for (const path of [...units, manifest.binary ?? layout.binary]) {
    if (await removeIfOurs(path)) removed.push(path);
  }
  await command([...layout.systemctl, "daemon-reload"], options);
  if (options.purge) {
    for (const path of [manifest.configPath ?? layout.configPath, manifest.stateDir, layout.manifest].filter((p): p is string => Boolean(p))) {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    }
  } else {
    await unlink(layout.manifest).catch(() => {});
  }
  return removed;
}

/** A unit file is ours only if it says so; the binary is ours by its path in the manifest. */
async function removeIfOurs(path: string): Promise<boolean> {
  if (path.endsWith(".service") || path.endsWith(".timer")) {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined || !text.startsWith("# Installed by oauth-sync")) return false;
  }
  return unlink(path).then(
    () => true,
    () => false,
  );
}
