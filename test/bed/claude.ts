/**
 * Test bed: the REAL Claude Code CLI (from npm) talking to a FAKE Anthropic OAuth service.
 *
 * The CLI's OAuth hosts are fixed (`platform.claude.com` for the token endpoint, `api.anthropic.com`
 * for everything else) and no environment variable moves the token endpoint, so the fake sits behind
 * an HTTP proxy (`HTTPS_PROXY`) that answers every CONNECT by piping to one local HTTPS server whose
 * certificate (SANs for both hosts) is signed by a local CA the CLI trusts via `NODE_EXTRA_CA_CERTS`.
 *
 * Node builtins only (plus Bun.serve for the HTTPS side). Nothing here needs root.
 * `bun test/bed/claude.smoke.ts` runs every case below against the real CLI and prints what it saw.
 *
 * Measured with 2.1.330 (see the smoke script):
 * - `auth status` and `-p` refresh only within 5 minutes of expiresAt (or past it): one POST
 *   /v1/oauth/token, `.credentials.json` replaced by rename (new inode, 0600, compact JSON),
 *   `CONFIGDIR/.oauth_refresh.lock` and `CONFIGDIR.lock` held ~10–35 ms around it.
 * - invalid_grant blanks the file (accessToken "", refreshToken "", expiresAt 0, other fields kept).
 *   `auth status` exits 1 only if the config dir is fresh (no `.claude.json` yet); once any run made
 *   `.claude.json` it prints the stale `"loggedIn": true` and exits 0; the NEXT run exits 1.
 * - In a warm config dir `auth status` sometimes skips the refresh altogether (no network at all):
 *   measured 1/20 to 10/20 runs, varying with load. Check the file afterwards; don't trust one run.
 *   A fresh config dir refreshed 40/40, `-p` 20/20.
 * - 500 / 429 / no network: exit 0, file untouched, no retry (`-p` tries 3 times, then uses the old token).
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { chmod, mkdir, open, readFile, rename, rm, unlink } from "node:fs/promises";
import { createServer, Socket, type Server } from "node:net";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const DEFAULT_CLAUDE_VERSION = "2.1.330";

/** Where slow artefacts (the ~380 MB CLI, the CA) are kept between runs. */
export function testbedCacheDir(): string {
  return process.env.OAUTH_SYNC_TESTBED_CACHE || join(homedir(), ".cache", "oauth-sync-testbed");
}

// ---------------------------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------------------------

/** The npm platform package holding the native binary, e.g. `@anthropic-ai/claude-code-linux-x64`. */
function platformPackages(): string[] {
  const arch = process.arch === "x64" ? "x64" : process.arch === "arm64" ? "arm64" : process.arch;
  const base = `claude-code-${process.platform === "win32" ? "win32" : process.platform}-${arch}`;
  if (process.platform !== "linux") return [base];
  const musl = isMusl();
  return musl ? [`${base}-musl`, base] : [base, `${base}-musl`];
}

function isMusl(): boolean {
  const glibcLoader = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux-x86-64.so.2"].some((p) => existsSync(p));
  if (glibcLoader) return false;
  try {
    return readdirSync("/lib").some((name) => name.startsWith("ld-musl-"));
  } catch {
    return false;
  }
}

/** The native executable inside an install prefix, or undefined. */
function nativeBinaryIn(prefix: string): string | undefined {
  for (const pkg of platformPackages()) {
    const candidate = join(prefix, "node_modules", "@anthropic-ai", pkg, process.platform === "win32" ? "claude.exe" : "claude");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const installs = new Map<string, Promise<string>>();

/**
 * Installs `@anthropic-ai/claude-code@VERSION` from npm once into
 * `${OAUTH_SYNC_TESTBED_CACHE ?? ~/.cache/oauth-sync-testbed}/claude/<version>` and returns the path of
 * the real native `claude` executable (`node_modules/@anthropic-ai/claude-code-<platform>/claude`, about
 * 380 MB). The package's postinstall (which only copies that binary over `bin/claude.exe`) is skipped.
 * Concurrency-safe: each installer works in its own temp dir and renames it into place; the loser of a
 * race throws its copy away.
 */
export function ensureClaudeCli(version = DEFAULT_CLAUDE_VERSION): Promise<string> {
  let pending = installs.get(version);
  if (!pending) {
    pending = installClaudeCli(version);
    installs.set(version, pending);
    pending.catch(() => installs.delete(version));
  }
  return pending;
}

async function installClaudeCli(version: string): Promise<string> {
  if (!/^[0-9A-Za-z.+-]+$/.test(version)) throw new Error(`ensureClaudeCli: odd version ${JSON.stringify(version)}`);
  const root = join(testbedCacheDir(), "claude");
  const final = join(root, version);
  const ready = (prefix: string) => (existsSync(join(prefix, ".complete")) ? nativeBinaryIn(prefix) : undefined);
  const existing = ready(final);
  if (existing) return existing;

  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-${version}-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(tmp);
  try {
    await writeFile0600(join(tmp, "package.json"), JSON.stringify({ name: "claude-testbed", private: true }) + "\n");
    try {
      await run(
        "npm",
        ["install", "--no-audit", "--no-fund", "--no-update-notifier", "--ignore-scripts", "--no-package-lock", "--loglevel=error", `@anthropic-ai/claude-code@${version}`],
        { cwd: tmp, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_engine_strict: "false" } },
      );
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`npm install @anthropic-ai/claude-code@${version} failed: ${e.stderr || e.message}`);
    }
    const binary = nativeBinaryIn(tmp);
    if (!binary) throw new Error(`@anthropic-ai/claude-code@${version}: no native package for ${process.platform}-${process.arch} was installed (looked for ${platformPackages().join(", ")})`);
    const { stdout } = await run(binary, ["--version"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmp, DISABLE_AUTOUPDATER: "1" } });
    if (!stdout.startsWith(version)) throw new Error(`${binary} --version printed ${JSON.stringify(stdout)}, wanted ${version}`);
    await writeFile0600(join(tmp, ".complete"), `${new Date().toISOString()}\n`);
    try {
      await rename(tmp, final);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another installer won the race (rename onto a non-empty dir fails) or a half-made dir is in
      // the way (no .complete marker): keep the winner, or replace the leftover.
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      if (!ready(final)) {
        await rm(final, { recursive: true, force: true });
        await rename(tmp, final);
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const binary = ready(final);
  if (!binary) throw new Error(`ensureClaudeCli: ${final} is incomplete after install`);
  return binary;
}

async function writeFile0600(path: string, text: string) {
  const handle = await open(path, "w", 0o600);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/** Hosts the server certificate is valid for. */
export const FAKE_HOSTS = ["platform.claude.com", "api.anthropic.com", "claude.ai", "*.claude.ai", "claude.com", "*.claude.com", "*.anthropic.com", "anthropic.com", "localhost"];

export interface TestbedCerts {
  caFile: string;
  certFile: string;
  keyFile: string;
}

let certsPending: Promise<TestbedCerts> | undefined;

/** A local CA and a server certificate for FAKE_HOSTS, generated with openssl once and cached. */
export function ensureCerts(): Promise<TestbedCerts> {
  certsPending ??= makeCerts();
  return certsPending;
}

async function makeCerts(): Promise<TestbedCerts> {
  const dir = join(testbedCacheDir(), "certs-v1");
  const files = { caFile: join(dir, "ca.crt"), certFile: join(dir, "server.crt"), keyFile: join(dir, "server.key") };
  if (Object.values(files).every((f) => existsSync(f))) return files;
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  mkdirSync(tmp, { mode: 0o700 });
  try {
    const openssl = async (args: string[]) => {
      try {
        await run("openssl", args, { cwd: tmp });
      } catch (error) {
        const e = error as { stderr?: string; message: string; code?: string };
        if (e.code === "ENOENT") throw new Error("openssl is not installed (apt-get install -y openssl): the fake OAuth server needs it for its certificates");
        throw new Error(`openssl ${args[0]} failed: ${e.stderr || e.message}`);
      }
    };
    writeFileSync(
      join(tmp, "server.ext"),
      [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid",
        `subjectAltName=${[...FAKE_HOSTS.map((h) => `DNS:${h}`), "IP:127.0.0.1"].join(",")}`,
        "",
      ].join("\n"),
    );
    await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
    await openssl([
      "req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "3650", "-subj", "/CN=oauth-sync testbed CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.crt",
    ]);
    await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"]);
    await openssl(["req", "-new", "-key", "server.key", "-subj", "/CN=platform.claude.com", "-out", "server.csr"]);
    await openssl([
      "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", `0x${randomBytes(8).toString("hex")}`,
      "-days", "825", "-sha256", "-extfile", "server.ext", "-out", "server.crt",
    ]);
    try {
      renameSync(tmp, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      // someone else made them first: theirs win
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// The fake OAuth service
// ---------------------------------------------------------------------------------------------

export type FakeOAuthMode = "ok" | "invalid_grant" | "500" | "429" | "drop";

export interface FakeOAuthRequest {
  method: string;
  /** Path with query, e.g. `/v1/oauth/token`. */
  path: string;
  /** Raw request body. */
  body: string;
  /** The body parsed as JSON or form data, when it is either. */
  json?: any;
  /** The Host header (`platform.claude.com`, `api.anthropic.com`, …). */
  host: string;
  /** Lower-case header names; tokens are fake, so `authorization` is kept as sent. */
  headers: Record<string, string>;
  /** Status the fake answered with. */
  status: number;
  at: number;
}

export interface FakeOAuthOptions {
  /** Seconds the issued access tokens live (`expires_in`). Default 28800 (8 h), like the real service. */
  expiresIn?: number;
  /** A refresh token already used successfully is answered with invalid_grant, like the real service. Default true. */
  singleUseRefreshTokens?: boolean;
  /** Reported in the token and profile answers. */
  account?: { uuid: string; email_address: string };
  organization?: { uuid: string; name: string };
  /** Delay (ms) before answering /v1/oauth/token. Default 0. */
  tokenDelayMs?: number;
  /**
   * Answer the token endpoint with this `scope` instead of echoing the request's (the default, and what
   * the real service does). Measured on 2.1.330: a scope without `user:inference` ("user:profile", "")
   * makes the CLI silently keep its old token (the old refresh token is spent all the same); a narrower
   * one with it ("user:inference") is stored with `scopes` narrowed to match.
   */
  scope?: string;
}

export interface FakeOAuth {
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY. */
  proxyUrl: string;
  /** The local CA, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** Every HTTPS request the fake answered, in order. */
  requests: FakeOAuthRequest[];
  /** Every CONNECT target the proxy saw (`host:port`), including refused ones. */
  connects: string[];
  /**
   * How POST /v1/oauth/token answers: "ok", "invalid_grant" (400), "500", "429" (with retry-after: 1);
   * "drop" makes the proxy refuse every CONNECT, like a dead network. Other endpoints always answer.
   */
  setMode(mode: FakeOAuthMode): void;
  setExpiresIn(seconds: number): void;
  setTokenDelay(ms: number): void;
  /** Access tokens issued by the token endpoint, in order. */
  issued: string[];
  /** Refresh tokens issued by the token endpoint, in order. */
  issuedRefreshTokens: string[];
  /** Refresh tokens presented to the token endpoint, in order (whatever the answer). */
  refreshTokensSeen: string[];
  /**
   * From now on every request bearing this access token gets 401 authentication_error (as the real API
   * answers a revoked or expired token). Tokens the fake issued are also refused once past expires_in.
   */
  revokeAccessToken(token: string): void;
  /** Requests to POST /v1/oauth/token so far. */
  tokenRequests(): FakeOAuthRequest[];
  close(): Promise<void>;
}

const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
function urlSafe(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += URL_SAFE[byte & 63];
  return out;
}

/** `sk-ant-oat01-` + 90 url-safe characters (the shape of a real Claude OAuth access token). */
export const fakeAccessToken = () => `sk-ant-oat01-${urlSafe(90)}`;
/** `sk-ant-ort01-` + 90 url-safe characters. */
export const fakeRefreshToken = () => `sk-ant-ort01-${urlSafe(90)}`;

/** A short, non-secret fingerprint of a token for logs: `oat01…last6`. */
export function fingerprint(token: string | undefined | null): string {
  if (token === undefined || token === null) return String(token);
  if (token === "") return '""';
  const kind = /^sk-ant-([a-z]+\d*)-/.exec(token)?.[1] ?? "?";
  return `${kind}…${token.slice(-6)}`;
}

function parseBody(body: string, contentType: string): any {
  if (!body) return undefined;
  try {
    if (contentType.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(body));
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json", ...headers } });

/**
 * Starts the fake OAuth service on 127.0.0.1 (random ports): an HTTPS server answering as
 * platform.claude.com and api.anthropic.com, and an HTTP proxy whose every CONNECT is piped to it.
 */
export async function startFakeOAuth(options: FakeOAuthOptions = {}): Promise<FakeOAuth> {
  const certs = await ensureCerts();
  const [cert, key] = await Promise.all([readFile(certs.certFile, "utf8"), readFile(certs.keyFile, "utf8")]);
  const account = options.account ?? { uuid: randomUUID(), email_address: "testbed@example.com" };
  const organization = options.organization ?? { uuid: randomUUID(), name: "Testbed Org" };
  let mode: FakeOAuthMode = "ok";
  let expiresIn = options.expiresIn ?? 28_800;
  let tokenDelay = options.tokenDelayMs ?? 0;
  const singleUse = options.singleUseRefreshTokens ?? true;
  const requests: FakeOAuthRequest[] = [];
  const connects: string[] = [];
  const issued: string[] = [];
  const issuedRefreshTokens: string[] = [];
  const refreshTokensSeen: string[] = [];
  const spent = new Set<string>();
  const revoked = new Set<string>();
  const issuedExpiry = new Map<string, number>();

  const profile = () => ({
    account: {
      uuid: account.uuid,
      email: account.email_address,
      email_address: account.email_address,
      full_name: "Testbed User",
      display_name: "Testbed",
      has_claude_max: true,
      has_claude_pro: false,
      created_at: "2025-01-01T00:00:00Z",
    },
    organization: {
      uuid: organization.uuid,
      name: organization.name,
      organization_type: "claude_max",
      billing_type: "stripe_subscription",
      rate_limit_tier: "default_claude_max_20x",
      has_extra_usage_enabled: false,
      cc_onboarding_flags: {},
    },
  });

  const invalidGrant = () => json(400, { error: "invalid_grant", error_description: "Refresh token not found or invalid" });

  async function token(req: FakeOAuthRequest): Promise<Response> {
    const body = req.json ?? {};
    if (body.grant_type === "refresh_token" && typeof body.refresh_token === "string") refreshTokensSeen.push(body.refresh_token);
    if (tokenDelay > 0) await Bun.sleep(tokenDelay);
    if (mode === "invalid_grant") return invalidGrant();
    if (mode === "500") return json(500, { type: "error", error: { type: "api_error", message: "Internal server error" } });
    if (mode === "429") return json(429, { type: "error", error: { type: "rate_limit_error", message: "Rate limited" } }, { "retry-after": "1" });
    if (body.grant_type !== "refresh_token") return json(400, { error: "unsupported_grant_type", error_description: `grant_type ${body.grant_type} is not supported by the fake` });
    if (typeof body.refresh_token !== "string" || !body.refresh_token) return json(400, { error: "invalid_request", error_description: "refresh_token is required" });
    if (singleUse && spent.has(body.refresh_token)) return invalidGrant();
    spent.add(body.refresh_token);
    const access = fakeAccessToken();
    const refresh = fakeRefreshToken();
    issued.push(access);
    issuedRefreshTokens.push(refresh);
    issuedExpiry.set(access, Date.now() + expiresIn * 1000);
    return json(200, {
      token_type: "Bearer",
      access_token: access,
      refresh_token: refresh,
      expires_in: expiresIn,
      // The CLI drops the new token silently unless the scope echoes the one it asked for.
      scope: options.scope !== undefined ? options.scope : typeof body.scope === "string" && body.scope ? body.scope : DEFAULT_SCOPES.join(" "),
      account: { uuid: account.uuid, email_address: account.email_address },
      organization: { uuid: organization.uuid, name: organization.name },
    });
  }

  function messages(req: FakeOAuthRequest): Response {
    const body = req.json ?? {};
    const model = typeof body.model === "string" ? body.model : "claude-sonnet-4-5";
    const id = `msg_testbed_${urlSafe(16)}`;
    const text = "ok";
    const usage = { input_tokens: 10, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    if (!body.stream) {
      return json(200, { id, type: "message", role: "assistant", model, content: [{ type: "text", text }], stop_reason: "end_turn", stop_sequence: null, usage });
    }
    const events: Array<[string, unknown]> = [
      ["message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } } }],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } }],
      ["message_stop", { type: "message_stop" }],
    ];
    const sse = events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join("");
    return new Response(sse, { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "request-id": `req_testbed_${urlSafe(12)}` } });
  }

  async function route(req: FakeOAuthRequest): Promise<Response> {
    const path = req.path.split("?")[0]!;
    if (req.method === "POST" && path === "/v1/oauth/token") return token(req);
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (bearer && (revoked.has(bearer) || (issuedExpiry.get(bearer) ?? Infinity) < Date.now())) {
      return json(401, { type: "error", error: { type: "authentication_error", message: "OAuth token has expired. Please obtain a new token or refresh your existing token." } });
    }
    if (req.method === "GET" && path === "/api/oauth/profile") return json(200, profile());
    if (req.method === "GET" && path === "/api/oauth/claude_cli/roles") return json(200, { organization_role: "admin", workspace_role: null, organization_name: organization.name });
    if (req.method === "GET" && path === "/api/oauth/account/settings") return json(200, {});
    if (req.method === "GET" && path === "/api/claude_cli/bootstrap") return json(200, {});
    if (path === "/api/claude_code/policy_limits") return json(200, { restrictions: {} });
    if (path === "/api/claude_code/settings") return json(404, { type: "error", error: { type: "not_found_error", message: "no settings" } });
    if (path === "/api/claude_code/organizations/metrics_enabled") return json(200, { metrics_logging_enabled: false });
    if (req.method === "GET" && path === "/v1/mcp_servers") return json(200, { data: [], has_more: false, first_id: null, last_id: null });
    if (req.method === "POST" && path === "/v1/messages/count_tokens") return json(200, { input_tokens: 10 });
    if (req.method === "POST" && path === "/v1/messages") return messages(req);
    return json(404, { type: "error", error: { type: "not_found_error", message: `the fake OAuth server has no ${req.method} ${path}` } });
  }

  const https = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert, key },
    idleTimeout: 30,
    async fetch(request) {
      const url = new URL(request.url);
      const body = await request.text();
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => (headers[name] = value));
      const entry: FakeOAuthRequest = {
        method: request.method,
        path: url.pathname + url.search,
        body,
        json: parseBody(body, request.headers.get("content-type") ?? ""),
        host: request.headers.get("host") ?? url.host,
        headers,
        status: 0,
        at: Date.now(),
      };
      requests.push(entry);
      const response = await route(entry);
      entry.status = response.status;
      return response;
    },
  });

  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > 16_384) client.destroy();
        return;
      }
      client.off("data", onData);
      client.pause();
      const line = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
      const rest = head.subarray(end + 4);
      const [method, target] = line.split(" ");
      if (method !== "CONNECT" || !target) {
        client.end("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      connects.push(target);
      if (mode === "drop") {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      upstream.on("error", () => {
        upstream.destroy();
        client.destroy();
      });
      upstream.connect(https.port!, "127.0.0.1", () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (rest.length) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once("error", reject);
    proxy.listen(0, "127.0.0.1", () => resolve());
  });
  const address = proxy.address();
  if (!address || typeof address === "string") throw new Error("proxy has no port");

  return {
    proxyUrl: `http://127.0.0.1:${address.port}`,
    caFile: certs.caFile,
    requests,
    connects,
    issued,
    issuedRefreshTokens,
    refreshTokensSeen,
    setMode: (next) => void (mode = next),
    setExpiresIn: (seconds) => void (expiresIn = seconds),
    setTokenDelay: (ms) => void (tokenDelay = ms),
    revokeAccessToken: (t) => void revoked.add(t),
    tokenRequests: () => requests.filter((r) => r.method === "POST" && r.path.split("?")[0] === "/v1/oauth/token"),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await https.stop(true);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running the CLI
// ---------------------------------------------------------------------------------------------

export interface ClaudeEnvOptions {
  proxyUrl: string;
  caFile: string;
  /**
   * CLAUDE_CONFIG_DIR: where `.credentials.json`, `.claude.json` and the lock dirs live. Omit it for the
   * CLI's default layout: `HOME/.claude/.credentials.json` but `HOME/.claude.json` (beside, not inside).
   */
  configDir?: string;
  /** HOME for the CLI (keep it apart from the real one). */
  home: string;
  /** Defaults to a minimal system PATH. */
  path?: string;
}

/** The complete environment for running the real CLI against the fake (use it with an empty base env). */
export function claudeEnv({ proxyUrl, caFile, configDir, home, path }: ClaudeEnvOptions): Record<string, string> {
  return {
    PATH: path ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    ...(configDir === undefined ? {} : { CLAUDE_CONFIG_DIR: configDir }),
    HTTPS_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    NODE_EXTRA_CA_CERTS: caFile,
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    TERM: "dumb",
  };
}

export interface ClaudeCredentials {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  scopes?: string[];
  subscriptionType?: string | null;
  rateLimitTier?: string | null;
}

export const DEFAULT_SCOPES = ["user:inference", "user:profile", "user:sessions:claude_code", "user:mcp_servers", "user:file_upload"];

/**
 * Writes `CONFIGDIR/.credentials.json` the way the CLI does: `{"claudeAiOauth":{…}}`, mode 0600,
 * through a temp file in the same directory and a rename (so a watcher sees one complete file).
 */
export async function writeClaudeCredentials(configDir: string, credentials: ClaudeCredentials): Promise<string> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const path = join(configDir, ".credentials.json");
  const value = {
    claudeAiOauth: {
      accessToken: credentials.accessToken,
      refreshToken: credentials.refreshToken,
      expiresAt: credentials.expiresAt,
      scopes: credentials.scopes ?? DEFAULT_SCOPES,
      subscriptionType: credentials.subscriptionType === undefined ? "max" : credentials.subscriptionType,
      rateLimitTier: credentials.rateLimitTier === undefined ? "default_claude_max_20x" : credentials.rateLimitTier,
    },
  };
  const tmp = `${path}.tmp.${randomBytes(6).toString("hex")}`;
  try {
    await writeFile0600(tmp, JSON.stringify(value));
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  return path;
}

/** Reads `CONFIGDIR/.credentials.json`'s `claudeAiOauth` (undefined when the file is missing). */
export async function readClaudeCredentials(configDir: string): Promise<(ClaudeCredentials & Record<string, unknown>) | undefined> {
  try {
    return JSON.parse(await readFile(join(configDir, ".credentials.json"), "utf8")).claudeAiOauth;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export interface ClaudeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI with exactly `env` (nothing inherited), stdin closed. */
export async function runClaude(binary: string, args: string[], env: Record<string, string>, { timeoutMs = 60_000, cwd }: { timeoutMs?: number; cwd?: string } = {}): Promise<ClaudeRun> {
  const started = performance.now();
  const proc = Bun.spawn([binary, ...args], { env, cwd: cwd ?? env.HOME, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, ms: Math.round(performance.now() - started) };
}

/** True when `command` can be run (for skip messages). */
export function haveCommand(command: string): boolean {
  return spawnSync(command, ["--version"], { stdio: "ignore" }).error === undefined;
}

export interface LockEvent {
  /** Absolute path of the lock directory. */
  path: string;
  event: "appeared" | "gone";
  /** performance.now() */
  at: number;
}

/**
 * Watches the lock directories the CLI takes around a token refresh and `.claude.json` writes:
 * `CONFIGDIR/.oauth_refresh.lock`, `CONFIGDIR.lock` (beside the config dir) and `.claude.json.lock`
 * (inside CONFIGDIR with CLAUDE_CONFIG_DIR set; beside it, in HOME, in the default layout).
 * inotify (fs.watch) on both directories plus a 2 ms poll.
 */
export function watchClaudeLocks(configDir: string) {
  const paths = [join(configDir, ".oauth_refresh.lock"), `${configDir}.lock`, join(configDir, ".claude.json.lock"), join(dirname(configDir), ".claude.json.lock")];
  const events: LockEvent[] = [];
  const state = new Map(paths.map((p) => [p, existsSync(p)]));
  const check = () => {
    for (const path of paths) {
      const now = existsSync(path);
      if (now !== state.get(path)) {
        state.set(path, now);
        events.push({ path, event: now ? "appeared" : "gone", at: performance.now() });
      }
    }
  };
  const watchers: FSWatcher[] = [];
  for (const dir of [configDir, dirname(configDir)]) {
    try {
      watchers.push(watch(dir, (_, name) => (name && String(name).includes(".lock") ? check() : undefined)));
    } catch {
      // directory missing: the poll still runs
    }
  }
  const timer = setInterval(check, 2);
  return {
    paths,
    events,
    /** Whether each lock path exists right now. */
    present: () => Object.fromEntries(paths.filter((p) => existsSync(p)).map((p) => [p, true])),
    stop() {
      check();
      clearInterval(timer);
      for (const w of watchers) w.close();
    },
  };
}
