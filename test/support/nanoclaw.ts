/**
 * A NanoClaw checkout as its own setup leaves it, for detection and for the token's way from .env into an agent
 * container. What each piece stands for, and the upstream commit it was written from, is in
 * test/fixtures/nanoclaw-upstream/README.md: NanoClaw's code is described there, not copied here.
 */
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** NanoClaw's .env reader and its host loop, as files a Node process runs (test/support/nanoclaw/). */
export const HOST_FILES = { "env.mjs": join(import.meta.dir, "nanoclaw/env.mjs"), "host.mjs": join(import.meta.dir, "nanoclaw/host.mjs") };

export type Era = "per-container" | "credential-proxy" | "onecli";

/** The source files that tell the eras apart, in the shape each release has them (names and calls; bodies elided). */
function sources(era: Era, refresher: boolean): Record<string, string> {
  const envTs = `export function readEnvFile(keys: string[]): Record<string, string> { /* test/support/nanoclaw/env.mjs */ return {}; }\n`;
  const files: Record<string, string> = { "src/env.ts": envTs };
  if (era === "per-container") {
    files["src/container-runner.ts"] =
      "import { readEnvFile } from './env.js';\nfunction readSecrets(): Record<string, string> {\n  return readEnvFile(['CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_AUTH_TOKEN']);\n}\n";
    files["dist/container-runner.js"] =
      "import { readEnvFile } from './env.js';\nfunction readSecrets() {\n    return readEnvFile([\n        'CLAUDE_CODE_OAUTH_TOKEN',\n        'ANTHROPIC_API_KEY',\n    ]);\n}\n";
    files["src/index.ts"] = "import { runContainerAgent } from './container-runner.js';\n";
  }
  if (era === "credential-proxy") {
    files["src/credential-proxy.ts"] = "import { readEnvFile } from './env.js';\nexport function startCredentialProxy(port: number) {\n  const secrets = readEnvFile(['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_AUTH_TOKEN']);\n}\n";
    files["src/container-runner.ts"] = "args.push('-e', 'CLAUDE_CODE_OAUTH_TOKEN=placeholder');\n";
    files["src/index.ts"] = "import { startCredentialProxy } from './credential-proxy.js';\nawait startCredentialProxy(3001);\n";
  }
  if (era === "onecli") {
    files["src/container-runner.ts"] = "import { OneCLI } from '@onecli-sh/sdk';\nconst applied = await onecli.applyContainerConfig(args, { agent });\n";
    files["src/env.ts"] = envTs;
  }
  if (refresher) {
    // What the forks' patches (upstream PRs #656, #930) must contain to refresh at all.
    files["src/oauth-token.ts"] =
      "const CREDS = path.join(os.homedir(), '.claude', '.credentials.json');\nexport async function getFreshOAuthToken() {\n  const res = await fetch('https://platform.claude.com/v1/oauth/token', { method: 'POST', body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: creds.refreshToken }) });\n}\n";
  }
  return files;
}

export interface Checkout {
  projectDir: string;
  envFile: string;
}

/** A checkout under `root` (a machine's root, "" for this one) at `projectDir`, owned by `owner`. */
export function writeCheckout(root: string, projectDir: string, options: { era: Era; version: string; env: string; owner?: { uid: number; gid: number }; refresher?: boolean }): Checkout {
  const at = (path: string) => join(root, projectDir, path);
  const files: Record<string, string> = {
    "package.json": `${JSON.stringify({ name: "nanoclaw", version: options.version, type: "module", main: "dist/index.js", ...(options.era === "onecli" ? { dependencies: { "@onecli-sh/sdk": "^0.1.6" } } : {}) }, null, 2)}\n`,
    ".env": options.env,
    ...sources(options.era, options.refresher === true),
  };
  mkdirSync(join(root, projectDir), { recursive: true, mode: 0o755 });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(at(path)), { recursive: true, mode: 0o755 });
    writeFileSync(at(path), text, { mode: path === ".env" ? 0o600 : 0o644 });
  }
  if (options.owner) {
    const owned = [".", ...Object.keys(files), ...new Set(Object.keys(files).map((p) => dirname(p)).filter((d) => d !== "."))];
    for (const path of owned) chownSync(at(path), options.owner.uid, options.owner.gid);
  }
  return { projectDir, envFile: join(projectDir, ".env") };
}

/** The unit NanoClaw's setup writes (setup/service.ts `setupSystemd`): system-wide as root, else the user's own. */
export function nanoclawUnit(projectRoot: string, homeDir: string, asRoot: boolean, nodePath = "/usr/bin/node"): string {
  return [
    "[Unit]",
    "Description=NanoClaw Personal Assistant",
    "After=network.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${nodePath} ${projectRoot}/dist/index.js`,
    `WorkingDirectory=${projectRoot}`,
    "Restart=always",
    "RestartSec=5",
    `Environment=HOME=${homeDir}`,
    `Environment=PATH=/usr/local/bin:/usr/bin:/bin:${homeDir}/.local/bin`,
    `StandardOutput=append:${projectRoot}/logs/nanoclaw.log`,
    `StandardError=append:${projectRoot}/logs/nanoclaw.error.log`,
    "",
    "[Install]",
    `WantedBy=${asRoot ? "multi-user.target" : "default.target"}`,
  ].join("\n");
}

/** Where setup puts that unit. */
export const unitPath = (homeDir: string, asRoot: boolean) => (asRoot ? "/etc/systemd/system/nanoclaw.service" : join(homeDir, ".config/systemd/user/nanoclaw.service"));
