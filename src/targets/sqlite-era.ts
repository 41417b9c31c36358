import { basename, dirname, join, resolve } from "node:path";
import { closeFound, findFile } from "../fs/open-file.ts";
import { listDir, type PathError } from "../fs/walk.ts";

/**
 * OpenClaw 2026.6 and later keep auth profiles in SQLite. There a JSON store is ignored (2026.6–7) or, from 2026.8,
 * makes every OpenClaw command fail with AUTH_PROFILE_MIGRATION_REQUIRED. Returns why a JSON target must not be
 * written, or undefined where the install is of the JSON era.
 */
export async function sqliteEraReason(kind: "openclaw-auth-profiles" | "openclaw-oauth-json", path: string): Promise<string | undefined> {
  const found = markers(kind, path).find(exists);
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
  const agents = listDir(join(openclawDir, "agents"));
  return [join(openclawDir, "state/openclaw.sqlite"), ...agents.map((id) => join(openclawDir, "agents", id, "agent/openclaw-agent.sqlite"))];
}

/**
 * Looked up with the same walk as every write (src/fs/walk.ts): no link followed, and a process acting as the owner
 * finds what lies in the owner's directory even where it may not read the directories above it.
 */
function exists(path: string): boolean {
  try {
    const found = findFile(path);
    closeFound(found);
    return found.fd !== undefined;
  } catch (error) {
    const code = (error as PathError).code;
    return code === "EFTYPE" || code === "ELOOP"; // something is there, just not a plain file
  }
}
