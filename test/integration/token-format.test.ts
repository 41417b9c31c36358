/**
 * Fail loud, not closed: the compiled binary syncs a token in a wider bearer alphabet into every target, and a
 * token refused for its shape makes `watch` notify at once, naming the reason and the release to look for, while
 * the targets keep the last good token.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken, type Sandbox } from "../../src/demo/sandbox.ts";
import { RELEASES_URL } from "../../src/credentials/parse.ts";
import { start, type Running } from "../support/binary.ts";
import { waitUntil } from "../support/wait.ts";

const HOUR = 3_600_000;
let sandbox: Sandbox | undefined;
let watcher: Running | undefined;
let server: ReturnType<typeof Bun.serve> | undefined;

afterEach(async () => {
  await watcher?.stop();
  await server?.stop(true);
  if (sandbox) await removeSandbox(sandbox);
  watcher = sandbox = server = undefined;
});

describe("a token format this release does not know", () => {
  test("a wider bearer alphabet is synced; a token with a quote is refused, notified at once, and the targets keep the last good token", async () => {
    const hooks: Array<Record<string, unknown>> = [];
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (request) => (hooks.push((await request.json()) as Record<string, unknown>), new Response("ok")) });
    sandbox = await createSandbox("oauth-sync-token-format-");
    const config = JSON.parse(await readFile(sandbox.configPath, "utf8"));
    config.notify = { webhooks: [{ url: `http://127.0.0.1:${server.port}/hook`, format: "json" }] };
    await writeFile(sandbox.configPath, JSON.stringify(config), { mode: 0o600 });

    const wide = `sk-ant-oat02-${fakeToken().slice(13, 70)}.~+/_-==`;
    await rotate(sandbox, wide, Date.now() + 8 * HOUR);
    watcher = start(["watch", "--config", sandbox.configPath]);
    await waitForToken(Object.values(sandbox.files), wide, 10_000);

    const quoted = `${fakeToken()}"`;
    await rotate(sandbox, quoted, Date.now() + 9 * HOUR);
    await waitUntil("the token-format notification", () => hooks.some((h) => h.event === "token-format"), { timeoutMs: 10_000, intervalMs: 50, onTimeout: "continue" });
    const event = hooks.find((h) => h.event === "token-format");
    if (!event) throw new Error(`no token-format notification: ${JSON.stringify(hooks)}\n${watcher.output()}`);
    expect(event).toMatchObject({ severity: "error" });
    expect(String(event.message)).toContain("a quote U+0022");
    expect(String(event.message)).toContain(RELEASES_URL);
    expect(JSON.stringify(hooks)).not.toContain(quoted.slice(13, 40));
    expect(hooks.filter((h) => h.event === "sync-failing")).toEqual([]); // one message for one problem
    for (const path of Object.values(sandbox.files)) expect(await readFile(path, "utf8")).toContain(wide);
    expect(watcher.output()).toContain("does not look like a Claude OAuth token");
  }, 30_000);
});
