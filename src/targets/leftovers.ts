import { basename, dirname, join } from "node:path";
import type { Config } from "../config/schema.ts";
import { listDir } from "../fs/walk.ts";
import { removeFileAsOwner } from "../privilege/owned-fs.ts";
import { stateFile } from "../state/store.ts";

/** Pure: is `entry` a temp file our writer made for `name` (`.<name>.oauth-sync-<12 hex>.tmp`)? */
export function isOurTemp(entry: string, name: string): boolean {
  const prefix = `.${name}.oauth-sync-`;
  return entry.startsWith(prefix) && /^[0-9a-f]{12}\.tmp$/.test(entry.slice(prefix.length));
}

/**
 * Removes the temp files a killed writer left beside our own files (each target, the state file): only names our
 * writer makes for that very file, each removed with the rights of whoever owns its directory. Returns their paths.
 */
export async function removeLeftoverTemps(config: Config): Promise<string[]> {
  const files = [stateFile(config.stateDir), ...config.targets.flatMap((t) => ("path" in t && typeof t.path === "string" ? [t.path] : []))];
  const removed: string[] = [];
  for (const file of files) {
    for (const entry of listDir(dirname(file)).filter((e) => isOurTemp(e, basename(file)))) {
      const path = join(dirname(file), entry);
      await removeFileAsOwner(path).then(
        () => removed.push(path),
        () => {}, // not ours to remove after all (a place we may not act in): the sync pass reports that place
      );
    }
  }
  return removed;
}
