import type { TargetConfig } from "../config/schema.ts";
import type { ClaudeCredentials } from "../credentials/parse.ts";

declare const crossing: unique symbol;

/**
 * Credentials as they may leave root for another side (a process acting as a place's owner, a command, a host): the
 * access token and its expiry always, the refresh token only where that target writes it. Only `credentialsFor`
 * makes one, so a request that carries credentials says, by its type, that this rule was applied.
 */
export type CrossingCredentials = Pick<ClaudeCredentials, "accessToken" | "expiresAt"> & { refreshToken?: string; readonly [crossing]: true };

/**
 * Pure: does this target write the refresh token? It is the login itself (whoever holds it can mint access tokens
 * for good, and spending it logs the CLI out), so only a form that stores it receives it: OpenClaw's `oauth`
 * profiles and the legacy `oauth.json`. A new target kind must answer here before it compiles.
 */
export function writesRefreshToken(target: TargetConfig): boolean {
  switch (target.kind) {
    case "openclaw-auth-profiles":
      return target.credentialType === "oauth";
    case "openclaw-oauth-json":
      return true;
    case "exec":
      // Asked for by name; src/targets/exec.ts refuses it unless the program runs as the login's own owner.
      return target.fields.includes("refreshToken");
    case "env-file":
    case "json-file":
    case "openclaw-cli":
    case "ssh":
      return false;
    default:
      return unknownKind(target);
  }
}

/** Pure: what of `credentials` crosses to the side that syncs `target`. */
export function credentialsFor(target: TargetConfig, credentials: ClaudeCredentials): CrossingCredentials {
  const refresh = writesRefreshToken(target) && credentials.refreshToken ? { refreshToken: credentials.refreshToken } : {};
  return { accessToken: credentials.accessToken, expiresAt: credentials.expiresAt, ...refresh } as CrossingCredentials;
}

function unknownKind(target: never): never {
  throw new Error(`no rule for what crosses to target kind ${(target as { kind: string }).kind}`);
}
