/** The interactive install, typed at in a real terminal (tmux) against a booted systemd. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { bootSystemd, type SystemdContainer } from "../bed/systemd.ts";
import { requireBinary } from "../support/binary.ts";
import { waitUntil } from "../support/wait.ts";

const HOUR = 3_600_000;
const SESSION = `oauth-sync-wizard-${process.pid}`;
let session = SESSION;
let box: SystemdContainer;

async function ensureTmux() {
  if (Bun.which("tmux")) return;
  const apt = Bun.spawnSync(["sh", "-c", "apt-get install -y tmux || (apt-get update && apt-get install -y tmux)"], { stdout: "ignore", stderr: "pipe" });
  if (apt.exitCode !== 0 || !Bun.which("tmux")) throw new Error(`cannot install tmux: ${apt.stderr}`);
}

const screen = async () => (await Bun.$`tmux capture-pane -p -t ${session} -S -200`.quiet().nothrow()).stdout.toString();
const waitScreen = (text: string, timeoutMs = 30_000) =>
  waitUntil(`${JSON.stringify(text)} on the screen`, async () => (await screen()).includes(text), { timeoutMs, intervalMs: 100, detail: screen });
const keys = (...k: string[]) => Bun.$`tmux send-keys -t ${session} ${k}`.quiet();

async function writeInside(path: string, text: string, mode = 0o600) {
  await mkdir(join(box.root, path, ".."), { recursive: true });
  await writeFile(join(box.root, path), text, { mode });
}

beforeAll(async () => {
  await ensureTmux();
  box = await bootSystemd("oauth-sync-wizard");
  await box.copyIn(requireBinary(), "/root/oauth-sync");
  await writeInside("/root/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 5 * HOUR));
  await writeInside("/home/ana/.claude/.credentials.json", credentialsJson(fakeToken(), Date.now() + 7 * HOUR));
  await writeInside("/root/.openclaw/openclaw.json", JSON.stringify({ meta: { lastTouchedVersion: "2026.5.28" } }));
  await mkdir(join(box.root, "root/.openclaw/agents/main/agent"), { recursive: true });
}, 600_000);

afterAll(async () => {
  for (const name of [SESSION, `${SESSION}-upgrade`]) await Bun.$`tmux kill-session -t ${name}`.quiet().nothrow();
  await box?.stop();
});

describe("the install wizard in a terminal", () => {
  test("shows what it found, lets a person pick the login, asks before installing, verifies at the end", async () => {
    const inside = `nsenter -t ${box.pid} -a env -i TERM=xterm PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /root/oauth-sync install`;
    await Bun.$`tmux new-session -d -s ${SESSION} -x 160 -y 60 ${`${inside}; echo EXIT=$?; sleep 600`}`.quiet();
    await waitScreen("Which Claude Code login");
    await Bun.sleep(500); // the prompt switches the terminal to raw mode just after drawing itself
    // The login that lives longest (ana's) is preselected; the person picks root's instead.
    await keys("Up");
    await Bun.sleep(200);
    await keys("Enter");
    await waitScreen("Install with this config?");
    await Bun.sleep(500);
    expect(await screen()).toContain('"credentials": "/root/.claude/.credentials.json"');
    await keys("Enter");
    await waitScreen("EXIT=", 60_000);
    const shown = await screen();
    expect(shown).toContain("EXIT=0");
    expect(shown).toContain("healthy");
    expect(shown).not.toContain("sk-ant-");
    const config = JSON.parse(await readFile(join(box.root, "etc/oauth-sync/config.json"), "utf8"));
    expect(config.credentials).toBe("/root/.claude/.credentials.json");
    // 2026.5 re-reads auth-profiles.json on its own (measured, docs/FIELD-MAPPING.md): no reload proposed.
    expect(config.targets).toEqual([{ kind: "openclaw-auth-profiles", path: "/root/.openclaw/agents/main/agent/auth-profiles.json", reload: false }]);
  }, 180_000);

  test("over a config edited by hand: the diff, a question for each correction and stale target, the answers applied", async () => {
    const path = join(box.root, "etc/oauth-sync/config.json");
    const edited = JSON.parse(await readFile(path, "utf8"));
    edited.targets[0].reload = true; // detection proposes false (2026.5 re-reads the file)
    edited.targets.push({ kind: "env-file", path: "/srv/mine/.env" }); // a target of the operator's own
    edited.notify = { webhooks: [{ url: "https://hooks.example.invalid/services/T0/B0/wizard-secret", format: "slack" }] };
    await writeFile(path, JSON.stringify(edited, null, 2), { mode: 0o600 });
    session = `${SESSION}-upgrade`;
    const inside = `nsenter -t ${box.pid} -a env -i TERM=xterm PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /root/oauth-sync install --no-test`;
    await Bun.$`tmux new-session -d -s ${session} -x 200 -y 80 ${`${inside}; echo EXIT=$?; sleep 600`}`.quiet();
    await waitScreen("Which Claude Code login");
    await Bun.sleep(500);
    await keys("Up");
    await Bun.sleep(200);
    await keys("Enter");
    await waitScreen("Take detection's targets[");
    const diff = await screen();
    expect(diff).toContain("~ targets[openclaw-auth-profiles /root/.openclaw/agents/main/agent/auth-profiles.json].reload: yours true, detected false");
    expect(diff).toContain("- target env-file /srv/mine/.env: no longer detected");
    expect(diff).toContain("= kept as you wrote them: notify (1 webhook(s))");
    expect(diff).not.toContain("wizard-secret");
    await Bun.sleep(500);
    await keys("y"); // take detection's reload: false
    await waitScreen("Drop target env-file /srv/mine/.env, which detection no longer finds?");
    await Bun.sleep(500);
    await keys("Enter"); // the default: keep it
    await waitScreen("Install with this config?");
    await Bun.sleep(500);
    await keys("Enter");
    await waitScreen("EXIT=", 60_000);
    expect(await screen()).not.toContain("wizard-secret");
    const config = JSON.parse(await readFile(path, "utf8"));
    expect(config.targets).toEqual([
      { kind: "openclaw-auth-profiles", path: "/root/.openclaw/agents/main/agent/auth-profiles.json", reload: false },
      { kind: "env-file", path: "/srv/mine/.env" },
    ]);
    expect(config.notify).toEqual(edited.notify);
  }, 180_000);
});
