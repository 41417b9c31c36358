/**
 * Does @parcel/watcher itself lose the event of a rename? No oauth-sync code runs here: each worker process subscribes
 * to a directory as `watch` does, replaces the credentials file as the CLI does (temp file + rename), and waits up to
 * 1 s for an event naming the file. Rotations are spaced 500-800 ms apart, so every one starts after the watcher's
 * 500 ms idle mark, where its first event is delivered at once while the rename is still under way.
 * A lost event is counted with what the callback delivered instead (an empty batch, only the temp file's events).
 *   bun bench/watcher-drops.ts [workers=12] [seconds=300]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fakeToken, rotate } from "../src/demo/sandbox.ts";

if (process.argv[2] === "--worker") {
  const { watcher } = await import("../src/watch/native.ts");
  const seconds = Number(process.argv[3]);
  const dir = await mkdtemp(join(tmpdir(), "oauth-sync-drops-"));
  const credentials = join(dir, ".credentials.json");
  const name = basename(credentials);
  let seen = 0;
  let callbacks: string[][] = [];
  const sub = await watcher.subscribe(dir, (_error, events) => {
    callbacks.push(events.map((e) => `${e.type}:${basename(e.path) === name ? "credentials" : "temp"}`));
    if (events.some((e) => basename(e.path) === name)) seen++;
  }, { backend: "inotify", ignore: [/\//] });
  const result = { rotations: 0, lost: 0, lostWith: {} as Record<string, number> };
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const before = seen;
    callbacks = [];
    await rotate({ credentials }, fakeToken(), Date.now() + 3_600_000);
    result.rotations++;
    const deadline = Date.now() + 1000;
    while (seen === before && Date.now() < deadline) await Bun.sleep(2);
    if (seen === before) {
      result.lost++;
      const what = callbacks.length === 0 ? "no callback at all" : callbacks.map((c) => `[${c.join(" ") || "empty"}]`).join(" ");
      result.lostWith[what] = (result.lostWith[what] ?? 0) + 1;
    }
    await Bun.sleep(500 + Math.random() * 300);
  }
  await sub.unsubscribe();
  await rm(dir, { recursive: true, force: true });
  console.log(JSON.stringify(result));
  process.exit(0);
}

const workers = Number(process.argv[2] ?? 12);
const seconds = Number(process.argv[3] ?? 300);
const runs = Array.from({ length: workers }, () =>
  Bun.spawn([process.execPath, import.meta.path, "--worker", String(seconds)], { stdout: "pipe", stderr: "inherit" }),
);
const totals = { rotations: 0, lost: 0, lostWith: {} as Record<string, number> };
for (const run of runs) {
  const out = JSON.parse((await new Response(run.stdout).text()).trim());
  totals.rotations += out.rotations;
  totals.lost += out.lost;
  for (const [k, v] of Object.entries(out.lostWith as Record<string, number>)) totals.lostWith[k] = (totals.lostWith[k] ?? 0) + v;
}
console.log(`@parcel/watcher alone, ${workers} processes × ${seconds} s, rotations 500-800 ms apart`);
console.log(`rotations                 ${totals.rotations}`);
console.log(`events lost (none in 1 s) ${totals.lost}${totals.lost ? ` (1 in ${Math.round(totals.rotations / totals.lost)})` : ""}`);
for (const [what, count] of Object.entries(totals.lostWith)) console.log(`  ${count}× the callback delivered instead: ${what}`);
