import type { Config } from "../config/schema.ts";
import { VERSION } from "../version.ts";
import { protectHome, writablePaths } from "./paths.ts";
import checkService from "../../templates/oauth-sync-check.service" with { type: "text" };
import checkTimer from "../../templates/oauth-sync-check.timer" with { type: "text" };
import watchService from "../../templates/oauth-sync.service" with { type: "text" };

export interface UnitFile {
  name: string;
  content: string;
}

export interface UnitOptions {
  binary: string;
  configPath: string;
  /** User units (`systemctl --user`) instead of system units. */
  user?: boolean;
}

export const UNIT_NAMES = ["oauth-sync.service", "oauth-sync-check.service", "oauth-sync-check.timer"] as const;

/** systemd unit syntax: a path with spaces must be quoted, and `%` is a specifier. */
function quote(path: string): string {
  const escaped = path.replace(/%/g, "%%");
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/** Pure: the units for a config, from the templates. */
export function renderUnits(config: Config, options: UnitOptions): UnitFile[] {
  const rw = writablePaths(config);
  const values: Record<string, string> = {
    VERSION,
    BINARY: quote(options.binary),
    CONFIG: quote(options.configPath),
    READ_WRITE_PATHS: rw.map((p) => `-${quote(p)}`).join(" "),
    PROTECT_HOME: protectHome([...rw, config.credentials]),
    WANTED_BY: options.user ? "default.target" : "multi-user.target",
    AFTER: config.gateway.kind === "compose" || config.trigger.mode === "container" ? " docker.service" : "",
  };
  const fill = (template: string) => template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => values[key] ?? "");
  const units = [
    { name: "oauth-sync.service", content: fill(watchService) },
    { name: "oauth-sync-check.service", content: fill(checkService) },
    { name: "oauth-sync-check.timer", content: fill(checkTimer) },
  ];
  return options.user ? units.map((u) => ({ ...u, content: userUnit(u.content) })) : units;
}

/** A user manager cannot apply most sandboxing (no privileges to set up mounts): keep only what it can. */
function userUnit(content: string): string {
  const unsupported = /^(ProtectSystem|ProtectHome|ReadWritePaths|PrivateTmp|PrivateDevices|ProtectKernel\w+|ProtectControlGroups|ProtectClock|ProtectHostname|RestrictNamespaces)=.*\n/gm;
  return content.replace(unsupported, "");
}
