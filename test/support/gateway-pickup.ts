/**
 * Does a running OpenClaw gateway use a new Anthropic token without a restart, and how fast? (bench/pickup.ts prints
 * the numbers; test/integration/gateway-pickup.test.ts asserts the behaviour.)
 *  - a real gateway (`openclaw gateway --bind loopback`) on state made by `openclaw onboard --non-interactive`, with
 *    `models.providers.anthropic.baseUrl` pointed at a local fake of `POST /v1/messages` that records the bearer's
 *    fingerprint (never the token);
 *  - oauth-sync syncs a new token the way `install` proposes for that release (2026.5.x: `openclaw-auth-profiles`
 *    with reload false; 2026.6+: `openclaw-cli`);
 *  - turns are sent with `openclaw agent` until the fake sees the new bearer; the gateway's pid is compared.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { credentialsJson } from "../../src/demo/sandbox.ts";
import { ensureOpenClaw, fakeToken, openclawEnv, prepareHome, runOpenClaw } from "../bed/openclaw.ts";
import { run as runBinary } from "./binary.ts";

const HOUR = 3_600_000;
const fp = (token: string) => createHash("sha256").update(token).digest("hex").slice(0, 12);

/** The fake Anthropic endpoint: answers /v1/messages (JSON or SSE), records when each bearer fingerprint arrived. */
function fakeAnthropic() {
  const seen: Array<{ at: number; fp: string }> = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const auth = req.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ?? req.headers.get("x-api-key") ?? "";
      if (req.method === "POST" && url.pathname.endsWith("/v1/messages")) {
        if (auth) seen.push({ at: Date.now(), fp: fp(auth) });
        const body = (await req.json().catch(() => ({}))) as { stream?: boolean; model?: string };
        const model = body.model ?? "claude-sonnet-4-5";
        const message = { id: "msg_bench", type: "message", role: "assistant", model, content: [{ type: "text", text: "ok" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } };
        if (!body.stream) return Response.json(message);
        const events: Array<[string, unknown]> = [
          ["message_start", { type: "message_start", message: { ...message, content: [], stop_reason: null } }],
          ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
          ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "ok" } }],
          ["content_block_stop", { type: "content_block_stop", index: 0 }],
          ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } }],
          ["message_stop", { type: "message_stop" }],
        ];
        return new Response(events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join(""), { headers: { "content-type": "text/event-stream" } });
      }
      return Response.json({ type: "error", error: { type: "not_found_error", message: url.pathname } }, { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, seen, stop: () => server.stop(true) };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** A real gateway of `version`, `rotations` token changes synced by oauth-sync (the compiled binary) while it runs. */
export async function measurePickup(version: string, rotations: number) {
  const { bin } = await ensureOpenClaw(version);
  const home = await mkdtemp(join(tmpdir(), `oauth-sync-pickup-${version}-`));
  await prepareHome(version, home);
  const fake = fakeAnthropic();
  const first = fakeToken();
  const onboard = await runOpenClaw(version, home, ["onboard", "--non-interactive", "--accept-risk", "--auth-choice", "token", "--token-provider", "anthropic", "--token", first, "--token-expires-in", "8h", "--skip-daemon", "--skip-health", "--skip-channels", "--skip-skills", "--skip-search", "--skip-ui", "--skip-hooks"]);
  if (onboard.code !== 0) throw new Error(`${version} onboard exited ${onboard.code}: ${onboard.stderr.slice(-400)}`);
  const port = await freePort();
  for (const [key, value] of [["models.providers.anthropic.baseUrl", fake.url], ["gateway.port", String(port)]]) {
    const set = await runOpenClaw(version, home, ["config", "set", key!, value!]);
    if (set.code !== 0) throw new Error(`${version} config set ${key} exited ${set.code}: ${set.stderr.slice(-400)}`);
  }
  const env: Record<string, string> = { ...(await openclawEnv(version)), HOME: home };
  const gateway = Bun.spawn([bin, "gateway", "--bind", "loopback", "--port", String(port), "--allow-unconfigured"], { env, cwd: home, stdout: "pipe", stderr: "pipe", detached: true });
  // Up to 2026.5 `openclaw agent` falls back to an embedded agent when the gateway fails ("EMBEDDED FALLBACK" on
  // stderr): such a turn did not go through the gateway and is counted apart.
  let fellBack = 0;
  const turn = async (i: number) => {
    const result = await runOpenClaw(version, home, ["agent", "--agent", "main", "--session-id", `bench-${i}`, "--message", "ping", "--timeout", "60"], { env: { OPENCLAW_GATEWAY_PORT: String(port) }, timeoutMs: 90_000 });
    const embedded = /EMBEDDED FALLBACK/.test(result.stderr + result.stdout);
    if (embedded) fellBack++;
    return embedded;
  };
  try {
    // Wait for the gateway: the first turn that reaches the fake with the onboarded token.
    const started = Date.now();
    for (let i = 0; !fake.seen.some((s) => s.fp === fp(first)); i++) {
      if (Date.now() - started > 180_000) throw new Error(`${version}: no request reached the fake endpoint in 180 s`);
      await turn(i);
      await Bun.sleep(500);
    }
    const pid = gateway.pid;
    const sandbox = await mkdtemp(join(tmpdir(), "oauth-sync-pickup-cfg-"));
    const sqlite = !/^2026\.[1-5]\./.test(version);
    const target = sqlite ? { kind: "openclaw-cli", env: { HOME: home } } : { kind: "openclaw-auth-profiles", path: join(home, ".openclaw/agents/main/agent/auth-profiles.json"), reload: false };
    const delays: number[] = [];
    fellBack = 0;
    for (let r = 0; r < rotations; r++) {
      const token = fakeToken();
      await writeFile(join(sandbox, "credentials.json"), credentialsJson(token, Date.now() + 8 * HOUR + r * 60_000), { mode: 0o600 });
      await writeFile(join(sandbox, "config.json"), JSON.stringify({ credentials: join(sandbox, "credentials.json"), stateDir: join(sandbox, "state"), targets: [target], gateway: { kind: "none" } }));
      const sync = await runBinary(["sync", "--config", join(sandbox, "config.json")], { PATH: `${dirname(bin)}:${env.PATH}` });
      if (sync.code !== 0) throw new Error(`${version}: sync exited ${sync.code}: ${sync.output.slice(-400)}`);
      const synced = Date.now();
      for (let i = 0; !fake.seen.some((s) => s.fp === fp(token) && s.at >= synced); i++) {
        if (Date.now() - synced > 300_000) throw new Error(`${version}: the new token did not reach the endpoint in 300 s`);
        await turn(1000 * (r + 1) + i);
      }
      const at = fake.seen.find((s) => s.fp === fp(token) && s.at >= synced)!.at;
      delays.push(at - synced);
      if (gateway.exitCode !== null) throw new Error(`${version}: the gateway exited`);
    }
    await rm(sandbox, { recursive: true, force: true });
    const samePid = gateway.pid === pid && gateway.exitCode === null;
    // Control: with the gateway stopped, a turn must not reach the endpoint (no embedded fallback measured by mistake).
    try {
      process.kill(-gateway.pid, "SIGTERM");
    } catch {}
    gateway.kill("SIGTERM");
    await gateway.exited;
    const measuredFallbacks = fellBack;
    const before = fake.seen.length;
    const controlEmbedded = await turn(99_999);
    return { delays, samePid, throughGateway: measuredFallbacks === 0 && (fake.seen.length === before || controlEmbedded) };
  } finally {
    try {
      process.kill(-gateway.pid, "SIGTERM");
    } catch {}
    gateway.kill("SIGKILL");
    await fake.stop();
    await rm(home, { recursive: true, force: true });
  }
}

