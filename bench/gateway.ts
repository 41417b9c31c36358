/**
 * Gateway reload on a real Docker engine:
 *  - unavailable time per rotation (old gateway container dies → new one starts, from `docker events`),
 *    for the `recreate` and `down-up` strategies;
 *  - how many reloads 100 rotations in quick succession cause.
 *   bun bench/gateway.ts [rotations-per-strategy=5]
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken } from "../src/demo/sandbox.ts";
import { ensureDockerBed } from "../test/bed/docker.ts";
import { start } from "../test/support/binary.ts";
import { createComposeProject } from "../test/support/compose-project.ts";

const perStrategy = Number(process.argv[2] ?? 5);
const HOUR = 3_600_000;
await ensureDockerBed();

interface DockerEvent {
  status?: string;
  Action?: string;
  id?: string;
  timeNano: number;
  Actor?: { Attributes?: Record<string, string> };
}

async function gatewayEvents(project: string, since: number, until: number): Promise<DockerEvent[]> {
  const out = await Bun.$`docker events --since ${Math.floor(since / 1000)} --until ${Math.ceil(until / 1000) + 1} --filter label=com.docker.compose.project=${project} --filter label=com.docker.compose.service=openclaw-gateway --format ${"{{json .}}"}`.quiet().nothrow();
  return out.stdout.toString().trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

/** A compose project, oauth-sync watching its .env with the compose gateway, after its first reload. */
async function watchedProject(gateway: Record<string, unknown>) {
  const project = await createComposeProject();
  await project.up();
  const sandbox = await createSandbox("oauth-sync-bench-gw-");
  await writeFile(
    sandbox.configPath,
    JSON.stringify({
      credentials: sandbox.credentials,
      stateDir: join(sandbox.root, "state"),
      targets: [{ kind: "env-file", path: project.envFile }],
      gateway: { kind: "compose", projectDir: project.dir, ...gateway },
    }),
  );
  await rotate(sandbox, fakeToken(), Date.now() + 8 * HOUR);
  const watcher = start(["watch", "--config", sandbox.configPath]);
  await watcher.waitFor("gateway:", 120_000);
  return {
    project,
    sandbox,
    watcher,
    async close() {
      await watcher.stop();
      await project.remove();
      await removeSandbox(sandbox);
    },
  };
}

async function measure(strategy: "recreate" | "down-up") {
  const { project, sandbox, watcher, close } = await watchedProject({ strategy, settleSeconds: 0 });
  const gaps: number[] = [];
  for (let i = 0; i < perStrategy; i++) {
    const reloadsBefore = watcher.output().match(/gateway: /g)?.length ?? 0;
    const since = Date.now();
    const token = fakeToken();
    await rotate(sandbox, token, Date.now() + 9 * HOUR + i);
    await waitForToken([project.envFile], token, 10_000);
    while ((watcher.output().match(/gateway: /g)?.length ?? 0) <= reloadsBefore) await Bun.sleep(50);
    const events = await gatewayEvents(project.name, since, Date.now());
    const died = events.find((e) => (e.Action ?? e.status) === "die");
    const started = events.filter((e) => (e.Action ?? e.status) === "start").at(-1);
    if (died && started) gaps.push((started.timeNano - died.timeNano) / 1e6);
  }
  await close();
  return gaps;
}

async function burst(rotations: number) {
  const { project, sandbox, watcher, close } = await watchedProject({});
  const before = watcher.output().match(/gateway: /g)?.length ?? 0;
  let last = "";
  for (let i = 0; i < rotations; i++) {
    last = fakeToken();
    await rotate(sandbox, last, Date.now() + 9 * HOUR + i);
    await Bun.sleep(10 + Math.random() * 20);
  }
  await waitForToken([project.envFile], last, 10_000);
  await Bun.sleep(8000);
  const reloads = (watcher.output().match(/gateway: /g)?.length ?? 0) - before;
  const inside = await project.envInside("openclaw-gateway", "ANTHROPIC_OAUTH_TOKEN");
  await close();
  return { reloads, lastTokenInside: inside === last };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return xs.length ? `median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms (n=${xs.length})` : "no samples";
};
console.log(`gateway unavailable per rotation (old container dies → new one starts), real engine:`);
console.log(`  recreate: ${stats(await measure("recreate"))}`);
console.log(`  down-up:  ${stats(await measure("down-up"))}`);
const b = await burst(100);
console.log(`100 rotations 10–30 ms apart (default settleSeconds 2): ${b.reloads} reload(s); the running gateway holds the last token: ${b.lastTokenInside}`);
