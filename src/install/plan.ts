import { homedir } from "node:os";
import { userConfigExists, userConfigFile } from "../config/defaults.ts";
import { MAX_BYTES, readRegularFile } from "../fs/open-file.ts";
import type { RecordedBuild } from "./versions.ts";
import { join } from "node:path";

/** Where an installation puts its files: system-wide as root, or per user with `--user`. */
export interface InstallLayout {
  user: boolean;
  binary: string;
  configPath: string;
  unitDir: string;
  manifest: string;
  systemctl: string[];
}

export function installLayout(options: { user?: boolean; configPath?: string; binDir?: string }): InstallLayout {
  if (options.user) {
    const home = homedir();
    return {
      user: true,
      binary: join(options.binDir ?? join(home, ".local/bin"), "oauth-sync"),
      configPath: options.configPath ?? userConfigFile(),
      unitDir: join(home, ".config/systemd/user"),
      manifest: join(home, ".local/state/oauth-sync/install.json"),
      systemctl: ["systemctl", "--user"],
    };
  }
  return {
    user: false,
    binary: join(options.binDir ?? "/usr/local/bin", "oauth-sync"),
    configPath: options.configPath ?? "/etc/oauth-sync/config.json",
    unitDir: "/etc/systemd/system",
    manifest: "/var/lib/oauth-sync/install.json",
    systemctl: ["systemctl"],
  };
}

/** The config of a --user install (~/.config/oauth-sync) when no --config and no $OAUTH_SYNC_CONFIG name one. */
export function userConfigPath(user?: boolean): string | undefined {
  return user && !process.env.OAUTH_SYNC_CONFIG ? installLayout({ user: true }).configPath : undefined;
}

/**
 * Which installation a verb means when no flag says: `--user`'s, or, for a user who is not root and has a --user
 * installation of their own (its config is there), that one; else the system's. `config` is undefined where the
 * loader's own default ($OAUTH_SYNC_CONFIG, /etc/oauth-sync/config.json) applies.
 */
export function whichInstall(flags: { config?: string; user?: boolean }, euid = process.geteuid?.() ?? 0): { config?: string; user: boolean } {
  if (flags.config) return { config: flags.config, user: Boolean(flags.user) };
  if (flags.user) return { config: userConfigPath(true), user: true };
  if (euid === 0 || process.env.OAUTH_SYNC_CONFIG) return { user: false };
  return userConfigExists() ? { config: userConfigFile(), user: true } : { user: false };
}

/** What an installation wrote, so uninstall removes exactly that and nothing else, and the next install knows what it replaces. */
export interface Manifest {
  version: string;
  /** The build installed (version, commit, its date); absent in manifests of releases before builds were recorded. */
  build?: RecordedBuild;
  /** The build this install replaced, when there was one. */
  previous?: RecordedBuild;
  installedAt?: string;
  binary: string;
  configPath: string;
  stateDir: string;
  units: string[];
  user: boolean;
}

/** The manifest as written (by this release or an earlier one); undefined when there is none or it does not parse. */
export function readManifest(path: string): Partial<Manifest> | undefined {
  const read = readRegularFile(path, MAX_BYTES.state);
  if (!read.ok) return undefined;
  try {
    const value = JSON.parse(read.text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Partial<Manifest>) : undefined;
  } catch {
    return undefined;
  }
}

/** The build a manifest recorded: its `build`, else (an earlier release's manifest) its version alone. */
export function installedBuild(manifest: Partial<Manifest> | undefined): RecordedBuild | undefined {
  if (!manifest) return undefined;
  if (manifest.build && typeof manifest.build.version === "string") return manifest.build;
  return typeof manifest.version === "string" ? { version: manifest.version } : undefined;
}
