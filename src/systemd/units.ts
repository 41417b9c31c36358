import type { Config } from "../config/schema.ts";
import { VERSION } from "../version.ts";
import { capabilities, protectHome, readablePaths, usesDocker, writablePaths } from "./paths.ts";
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

/**
 * A path as systemd reads it back: `%` is a specifier (`%%`), `$` expands a variable on command lines (`$$`), a
 * path with white space or a quote is double-quoted. A control character, a double quote or a backslash cannot be
 * written safely in every setting that takes a path (ReadWritePaths keeps escapes as they are): refused, since a
 * newline would start a new directive (`ExecStartPre=+…`).
 */
export function quoteUnitPath(path: string, onCommandLine = false): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f"\\]/.test(path)) throw new UnitPathError(path);
  let escaped = path.replace(/%/g, "%%");
  if (onCommandLine) escaped = escaped.replace(/\$/g, "$$$$");
  return /[\s';]/.test(escaped) ? `"${escaped}"` : escaped;
}

export class UnitPathError extends Error {
  constructor(readonly path: string) {
    super(`${JSON.stringify(path)} holds a control character, a double quote or a backslash, which a systemd unit cannot carry safely: choose another path`);
  }
}

/** Pure: the units for a config, from the templates. */
export function renderUnits(config: Config, options: UnitOptions): UnitFile[] {
  const rw = writablePaths(config);
  const values: Record<string, string> = {
    VERSION,
    BINARY: quoteUnitPath(options.binary, true),
    CONFIG: quoteUnitPath(options.configPath, true),
    READ_WRITE_PATHS: rw.map((p) => (quoteUnitPath(p).startsWith('"') ? `"-${quoteUnitPath(p).slice(1)}` : `-${quoteUnitPath(p)}`)).join(" "),
    PROTECT_HOME: protectHome(rw, readablePaths(config)),
    WANTED_BY: options.user ? "default.target" : "multi-user.target",
    AFTER: usesDocker(config) ? " docker.service" : "",
  };
  const caps = capabilities(config);
  if (caps) values.CAPABILITIES = caps;
  // Without a known set of capabilities (a `command` gateway) the bounding set and its comment are left out.
  const limit = (template: string) => (caps ? template : template.replace(/^(# Root, but only.*\n)?CapabilityBoundingSet=.*\n/m, ""));
  const fill = (template: string) => limit(template).replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => values[key] ?? "");
  const units = [
    { name: "oauth-sync.service", content: fill(watchService) },
    { name: "oauth-sync-check.service", content: fill(checkService) },
    { name: "oauth-sync-check.timer", content: fill(checkTimer) },
  ];
  return options.user ? units.map((u) => ({ ...u, content: userUnit(u.content) })) : units;
}

/** A user manager cannot apply most sandboxing (no privileges to set up mounts): keep only what it can. */
function userUnit(content: string): string {
  const unsupported = /^(ProtectSystem|ProtectHome|ReadWritePaths|PrivateTmp|PrivateDevices|ProtectKernel\w+|ProtectControlGroups|ProtectClock|ProtectHostname|RestrictNamespaces|ProtectProc|CapabilityBoundingSet)=.*\n/gm;
  return content.replace(unsupported, "");
}
