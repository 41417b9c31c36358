import { homedir } from "node:os";
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
      configPath: options.configPath ?? join(home, ".config/oauth-sync/config.json"),
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

/** What an installation wrote, so uninstall removes exactly that and nothing else. */
export interface Manifest {
  version: string;
  binary: string;
  configPath: string;
  stateDir: string;
  units: string[];
  user: boolean;
}
