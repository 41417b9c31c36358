import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

/** A throwaway Claude + OpenClaw layout: the demo's, the benchmark's and the integration tests'. */
export interface Sandbox {
  root: string;
  credentials: string;
  configPath: string;
  files: { authProfiles: string; oauthJson: string; envFile: string };
  config: Record<string, unknown>;
}

/** Token-shaped but fake: never valid anywhere. */
export function fakeToken(kind: "oat" | "ort" = "oat"): string {
  return `sk-ant-${kind}01-${randomBytes(68).toString("base64url")}`;
}

export function credentialsJson(accessToken: string, expiresAt: number, refreshToken = fakeToken("ort")): string {
  return JSON.stringify({
    claudeAiOauth: { accessToken, refreshToken, expiresAt, scopes: ["user:inference", "user:profile"], subscriptionType: "max" },
  });
}

export async function createSandbox(prefix = "oauth-sync-demo-"): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const claude = join(root, "claude");
  const openclaw = join(root, "openclaw");
  const files = {
    authProfiles: join(openclaw, "agents/main/agent/auth-profiles.json"),
    oauthJson: join(openclaw, "credentials/oauth.json"),
    envFile: join(openclaw, ".env"),
  };
  await mkdir(claude, { recursive: true, mode: 0o700 });
  await mkdir(join(openclaw, "agents/main/agent"), { recursive: true, mode: 0o700 });
  await writeFile(
    files.authProfiles,
    JSON.stringify({ version: 1, profiles: { "openai:default": { type: "api_key", provider: "openai", key: "demo-other-provider" } } }, null, 2),
    { mode: 0o600 },
  );
  await writeFile(files.envFile, "# OpenClaw compose settings\nOPENCLAW_CONFIG_DIR=/home/node/.openclaw\n\nANTHROPIC_OAUTH_TOKEN=\nTZ=UTC\n", { mode: 0o600 });
  const credentials = join(claude, ".credentials.json");
  const config = {
    credentials,
    stateDir: join(root, "state"),
    targets: [
      { kind: "openclaw-auth-profiles", path: files.authProfiles },
      { kind: "openclaw-oauth-json", path: files.oauthJson },
      { kind: "env-file", path: files.envFile },
    ],
  };
  const configPath = join(root, "config.json");
  await writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  return { root, credentials, configPath, files, config };
}

/** Replace the credentials the way Claude Code does: temp file, then rename over the old one. */
export async function rotate(sandbox: Pick<Sandbox, "credentials">, accessToken: string, expiresAt: number): Promise<void> {
  const temp = `${sandbox.credentials}.tmp.${randomBytes(4).toString("hex")}`;
  await writeFile(temp, credentialsJson(accessToken, expiresAt), { mode: 0o600 });
  await rename(temp, sandbox.credentials);
}

/** Resolves with the milliseconds until every file holds `token`, or rejects after timeoutMs. */
export async function waitForToken(paths: string[], token: string, timeoutMs = 5000, started = performance.now()): Promise<number> {
  const pending = new Set(paths);
  while (pending.size > 0) {
    for (const path of pending) {
      const text = await readFile(path, "utf8").catch(() => "");
      if (text.includes(token)) pending.delete(path);
    }
    if (pending.size === 0) break;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${[...pending].join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return performance.now() - started;
}

export async function removeSandbox(sandbox: Sandbox): Promise<void> {
  await rm(sandbox.root, { recursive: true, force: true });
}
