import { readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * OpenClaw 2026.6 and later keep auth profiles in SQLite. There a JSON store is ignored (2026.6–7) or, from 2026.8,
 * makes every OpenClaw command fail with AUTH_PROFILE_MIGRATION_REQUIRED. Returns why a JSON target must not be
 * written, or undefined where the install is of the JSON era.
 */
export async function sqliteEraReason(kind: "openclaw-auth-profiles" | "openclaw-oauth-json", path: string): Promise<string | undefined> {
  // Synchronous: a few stats, checked before every write; a trip through the thread pool costs more on each pass.
  const found = firstExisting(markers(kind, path));
  if (!found) return undefined;
  return (
    `${path}: this OpenClaw keeps its auth in SQLite (${found} exists, release 2026.6 or later), where ${basename(path)} is ` +
    "ignored or makes OpenClaw refuse to start: not written. Use the openclaw-cli target instead"
  );
}

function markers(kind: string, path: string): string[] {
  if (kind === "openclaw-auth-profiles") {
    const agentDir = dirname(path); // <openclaw>/agents/<id>/agent
    return [join(agentDir, "openclaw-agent.sqlite"), join(resolve(agentDir, "../../.."), "state/openclaw.sqlite")];
  }
  const openclawDir = resolve(dirname(path), ".."); // <openclaw>/credentials/oauth.json
  const agents = (() => {
    try {
      return readdirSync(join(openclawDir, "agents"));
    } catch {
      return [] as string[];
    }
  })();
  return [join(openclawDir, "state/openclaw.sqlite"), ...agents.map((id) => join(openclawDir, "agents", id, "agent/openclaw-agent.sqlite"))];
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((path) => {
    try {
      return statSync(path, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return false;
    }
  });
}
