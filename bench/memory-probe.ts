/**
 * Quick A/B of builds' resident memory (not a goal bench: bench/idle.ts is that): each binary runs `watch` on its own
 * one-target layout, one at a time; RSS split into anonymous and file-backed pages after start-up (past the full GC 10 s
 * after the last pass) and after N rotations.
 *   bun bench/memory-probe.ts [rotations=1000] BINARY[=ENV=VALUE,...] ...
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeToken, rotate, waitForToken } from "../src/demo/sandbox.ts";

const HOUR = 3_600_000;
const rotations = Number(process.argv[2]);
const builds = process.argv.slice(3);

async function rss(pid: number) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return `${kb("VmRSS").toFixed(1)} (anon ${kb("RssAnon").toFixed(1)}, file ${kb("RssFile").toFixed(1)})`;
}

for (const build of builds) {
  const [binary, envList] = build.split("=", 2) as [string, string | undefined];
  const env = Object.fromEntries((envList ? build.slice(binary.length + 1).split(",") : []).map((kv) => kv.split("=", 2)));
  const root = await mkdtemp(join(tmpdir(), "oauth-sync-probe-"));
  await mkdir(join(root, "claude"), { mode: 0o700 });
  await mkdir(join(root, "openclaw"), { mode: 0o700 });
  const subject = { credentials: join(root, "claude/.credentials.json"), target: join(root, "openclaw/.env") };
  await writeFile(subject.target, "ANTHROPIC_OAUTH_TOKEN=\n", { mode: 0o600 });
  let expiresAt = Date.now() + 8 * HOUR;
  await rotate(subject, fakeToken(), expiresAt);
  const config = join(root, "config.json");
  await writeFile(config, JSON.stringify({ credentials: subject.credentials, stateDir: join(root, "state"), targets: [{ kind: "env-file", path: subject.target }] }));
  // bench/support/min-watcher.ts (built as bench/idle.ts builds it) takes the two paths.
  const args = binary.includes("min-watcher") ? [subject.credentials, subject.target] : ["watch", "--config", config, "--quiet"];
  const child = spawn(binary, args, { stdio: "ignore", env: { PATH: process.env.PATH, HOME: root, ...env } });
  try {
    await Bun.sleep(15_000);
    const idle = await rss(child.pid!);
    for (let i = 0; i < rotations; i++) {
      const token = fakeToken();
      await rotate(subject, token, (expiresAt += 1000));
      await waitForToken([subject.target], token, 5000).catch(() => undefined);
    }
    await Bun.sleep(12_000);
    console.log(`${build}: idle ${idle} MB; after ${rotations} rotations ${await rss(child.pid!)} MB`);
  } finally {
    child.kill("SIGTERM");
    await Bun.sleep(300);
    await rm(root, { recursive: true, force: true });
  }
}
