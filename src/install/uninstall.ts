import { closeSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { defaultStateDir } from "../config/defaults.ts";
import { MAX_BYTES, readRegularFile } from "../fs/open-file.ts";
import { openDir } from "../fs/walk.ts";
import { logger } from "../log/logger.ts";
import type { ProcessRunner } from "../process/run.ts";
import { removeFileHere } from "../privilege/owned-fs.ts";
import { UNIT_NAMES } from "../systemd/units.ts";
import { command } from "./install.ts";
import { removeEmptyDirs, removeTree } from "./no-follow.ts";
import { readManifest, type InstallLayout } from "./plan.ts";
import { removeStray, strayOf } from "./strays.ts";

export interface UninstallResult {
  removed: string[];
  /** What could not be removed, with why: the command exits non-zero. */
  problems: string[];
}

/**
 * Stop and remove what install put in place (by its manifest); config and state stay unless `purge`. Idempotent.
 * Every removal goes through the no-follow walk, in places this process owns: a link on the way is not followed, a
 * directory someone else owns is left as it is and named.
 */
export async function uninstall(layout: InstallLayout, options: { purge: boolean; run: ProcessRunner }): Promise<UninstallResult> {
  const manifest = readManifest(layout.manifest) ?? {};
  const units = manifest.units ?? UNIT_NAMES.map((name) => join(layout.unitDir, name));
  const removed: string[] = [];
  const problems: string[] = [];
  const attempt = (what: string, action: () => boolean | void) => {
    try {
      if (action() !== false) removed.push(what);
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
    }
  };
  const stop = await command([...layout.systemctl, "disable", "--now", "oauth-sync.service", "oauth-sync-check.timer", "oauth-sync-check.service"], options);
  if (stop && !/not loaded|does not exist|No such file/i.test(stop)) logger.warn(stop);
  for (const path of units) if (isOurUnit(path)) attempt(path, () => removeFileHere(path));
  const binary = manifest.binary ?? layout.binary;
  if (exists(binary)) attempt(binary, () => removeFileHere(binary));
  await command([...layout.systemctl, "daemon-reload"], options);
  if (!options.purge) {
    attempt(layout.manifest, () => (exists(layout.manifest) ? removeFileHere(layout.manifest) : false));
    return { removed, problems };
  }
  const configPath = manifest.configPath ?? layout.configPath;
  const config = configRaw(configPath);
  // Token copies only oauth-sync ever wrote (an earlier release's wrong paths), named by the config before it goes.
  for (const target of configTargets(config)) {
    const stray = strayOf(target);
    if (stray) attempt(stray.root, () => removeStray(stray));
  }
  const configDir = dirname(configPath);
  if (basename(configDir) === "oauth-sync") attempt(configDir, () => tree(configDir));
  else {
    attempt(configPath, () => (exists(configPath) ? removeFileHere(configPath) : false));
    for (const backup of backupsOf(configPath)) attempt(backup, () => removeFileHere(backup));
  }
  // A plain uninstall before removed the manifest: the config (still there) names the state directory.
  const stateDir = manifest.stateDir ?? (typeof config?.stateDir === "string" ? config.stateDir : config ? defaultStateDir() : undefined);
  if (stateDir) removeStateDir(stateDir);
  if (exists(layout.manifest)) attempt(layout.manifest, () => removeFileHere(layout.manifest));
  if (basename(dirname(layout.manifest)) === "oauth-sync") attempt(dirname(layout.manifest), () => removeEmptyDirs(dirname(layout.manifest), dirname(layout.manifest)).length > 0);
  return { removed, problems };

  /**
   * A directory of its own (named oauth-sync) goes whole; any other (a stateDir of the operator's choosing, such as
   * /srv/state) keeps everything but the files oauth-sync writes there.
   */
  function removeStateDir(dir: string) {
    if (basename(dir).includes("oauth-sync")) return attempt(dir, () => tree(dir));
    for (const name of STATE_FILES) {
      const path = join(dir, name);
      if (exists(path)) attempt(path, () => removeFileHere(path));
    }
    logger.warn(`${dir} is not a directory of oauth-sync's own (its name does not say oauth-sync): only oauth-sync's files in it were removed`);
  }

  function tree(path: string): boolean {
    const result = removeTree(path);
    for (const left of result.left) problems.push(`${left}: left in place, not ours to remove`);
    return result.removed;
  }
}

/** Something is at `path` (a file larger than the cap counts: only its size was looked at). */
const exists = (path: string) => {
  const read = readRegularFile(path, MAX_BYTES.state);
  return read.ok || read.code !== "ENOENT";
};

/** A unit file is ours only if it says so (read without following a link, never a FIFO). */
function isOurUnit(path: string): boolean {
  const read = readRegularFile(path, MAX_BYTES.config);
  return read.ok && read.text.startsWith("# Installed by oauth-sync");
}

/** The files oauth-sync writes in its state directory (the locks are left only by a process killed holding one). */
const STATE_FILES = ["state.json", "REAUTH_NEEDED", "install.json", "state.lock", "state.lock.break", "reload.lock", "reload.lock.break"];

/** The config as JSON, whatever else is wrong with it; undefined when there is none or it is not an object. */
function configRaw(path: string): Record<string, unknown> | undefined {
  const read = readRegularFile(path, MAX_BYTES.config);
  if (!read.ok) return undefined;
  try {
    const value: unknown = JSON.parse(read.text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function configTargets(config: Record<string, unknown> | undefined): Array<{ kind: string; path?: string }> {
  const targets = config?.targets;
  return Array.isArray(targets) ? targets.filter((t): t is { kind: string; path?: string } => typeof t === "object" && t !== null && typeof (t as { kind?: unknown }).kind === "string") : [];
}

/** The backups install keeps beside a config it replaced (`NAME.<time>.bak`), listed in the opened directory. */
function backupsOf(configPath: string): string[] {
  let dir;
  try {
    dir = openDir(dirname(configPath));
  } catch {
    return [];
  }
  try {
    const name = basename(configPath);
    return readdirSync(`/proc/self/fd/${dir.fd}`)
      .filter((entry) => entry.startsWith(`${name}.`) && entry.endsWith(".bak"))
      .map((entry) => join(dirname(configPath), entry));
  } finally {
    closeSync(dir.fd);
  }
}
