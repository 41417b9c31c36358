/**
 * A sandbox for the refresh tests: the real Claude CLI's config dir, OpenClaw-like targets, a fake OAuth server
 * behind its proxy, a local webhook receiver, and a config file for the compiled binary.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox, removeSandbox, type Sandbox } from "../../src/demo/sandbox.ts";
import { fakeAccessToken, fakeRefreshToken, writeClaudeCredentials, type FakeOAuth } from "../bed/claude.ts";

export interface Hook {
  url: string;
  received: Array<{ path: string; headers: Record<string, string>; body: string; json?: any }>;
  /** Answer with this status (default 200). */
  status: number;
  close(): void;
}

/** A local webhook receiver (plain HTTP on 127.0.0.1). The URL path holds a "secret" that must never be logged. */
export function startWebhook(): Hook {
  const received: Hook["received"] = [];
  const hook = { received, status: 200 } as Hook;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const headers: Record<string, string> = {};
      request.headers.forEach((v, k) => (headers[k] = v));
      let json: any;
      try {
        json = JSON.parse(body);
      } catch {}
      received.push({ path: new URL(request.url).pathname, headers, body, json });
      return new Response("ok", { status: hook.status });
    },
  });
  hook.url = `http://127.0.0.1:${server.port}/hooks/SECRETxWEBHOOKxPATH123`;
  hook.close = () => void server.stop(true);
  return hook;
}

export interface RefreshCase {
  sandbox: Sandbox;
  configDir: string;
  home: string;
  /** The environment for the compiled binary: what a systemd unit behind a proxy would give it. */
  env: Record<string, string>;
  writeConfig(extra: Record<string, unknown>): Promise<void>;
  /** Writes a login to the CLI's config dir; returns its tokens. */
  login(expiresAt: number, extra?: Record<string, unknown>): Promise<{ accessToken: string; refreshToken: string }>;
  targets(): string[];
  remove(): Promise<void>;
}

export async function refreshCase(fake: FakeOAuth, prefix = "oauth-sync-refresh-"): Promise<RefreshCase> {
  const sandbox = await createSandbox(prefix);
  const configDir = join(sandbox.root, "claude");
  const home = join(sandbox.root, "home");
  await mkdir(home, { recursive: true });
  const env = {
    HTTPS_PROXY: fake.proxyUrl,
    NO_PROXY: "127.0.0.1,localhost",
    NODE_EXTRA_CA_CERTS: fake.caFile,
    // Must not reach the CLI: the trigger passes only what it needs.
    SOME_SERVICE_SECRET: "service-only-value",
  };
  return {
    sandbox,
    configDir,
    home,
    env,
    async writeConfig(extra) {
      await writeFile(sandbox.configPath, JSON.stringify({ ...sandbox.config, ...extra }, null, 2));
    },
    async login(expiresAt, extra = {}) {
      const tokens = { accessToken: fakeAccessToken(), refreshToken: fakeRefreshToken() };
      const path = await writeClaudeCredentials(configDir, { ...tokens, expiresAt });
      if (Object.keys(extra).length) {
        const file = JSON.parse(await readFile(path, "utf8"));
        await writeFile(path, JSON.stringify({ ...file, ...extra }), { mode: 0o600 });
      }
      return tokens;
    },
    targets: () => Object.values(sandbox.files),
    remove: () => removeSandbox(sandbox),
  };
}

/** Host-mode trigger config for the real CLI at `binary`. */
export function hostTrigger(binary: string, home: string, extra: Record<string, unknown> = {}) {
  return { mode: "host", claude: binary, home, env: { DISABLE_TELEMETRY: "1", DISABLE_ERROR_REPORTING: "1" }, ...extra };
}
