/**
 * Refresh on time, on a compressed timeline: the REAL Claude Code CLI, the fake OAuth server issuing short-lived
 * tokens, and the compiled binary's `watch` service scheduling the refresh itself.
 *   bun bench/refresh.ts [cycles=5] [tokenSeconds=420] [windowSeconds=290]
 * Reports, per cycle, when the refresh happened (seconds before expiry) and how long until every target held the
 * new token; overall, the seconds any target held an expired token (goal 0) and the model calls spent (goal 0).
 * Printed, not asserted.
 */
import { readFile } from "node:fs/promises";
import { ensureClaudeCli, startFakeOAuth } from "../test/bed/claude.ts";
import { start } from "../test/support/binary.ts";
import { hostTrigger, refreshCase } from "../test/support/refresh-bed.ts";

const cycles = Number(process.argv[2] ?? 5);
const tokenSeconds = Number(process.argv[3] ?? 420);
const windowSeconds = Number(process.argv[4] ?? 290);
const POLL_MS = 100;

const binary = await ensureClaudeCli();
const fake = await startFakeOAuth({ expiresIn: tokenSeconds });
const c = await refreshCase(fake, "oauth-sync-bench-refresh-");
await c.writeConfig({ trigger: hostTrigger(binary, c.home), refresh: { windowSeconds, retrySeconds: 10 } });

// Start a few seconds before the window opens, so the first cycle is short too.
const first = await c.login(Date.now() + (windowSeconds + 5) * 1000);
const expiryOf = new Map<string, number>([[first.accessToken, Date.now() + (windowSeconds + 5) * 1000]]);
const watcher = start(["watch", "--config", c.sandbox.configPath], c.env);
const started = Date.now();
console.log(`claude ${binary}\n${cycles} cycles of ${tokenSeconds} s tokens, window ${windowSeconds} s: about ${Math.round(((cycles - 1) * (tokenSeconds - windowSeconds) + 10) / 60)} min`);

let expiredMs = 0;
let worstTargetExpiredMs = 0;
const landed = new Map<string, number>(); // token → when every target held it
const tokenRe = /sk-ant-oat01-[A-Za-z0-9_-]{80,}/;
while (fake.issued.length < cycles || landed.size < cycles + 1) {
  // Tokens the fake issued: expiry = issue time + expires_in (the fake's own clock is this process's).
  fake.tokenRequests().filter((r) => r.status === 200).forEach((r, i) => {
    const token = fake.issued[i];
    if (token && !expiryOf.has(token)) expiryOf.set(token, r.at + tokenSeconds * 1000);
  });
  const now = Date.now();
  const held = await Promise.all(c.targets().map(async (p) => tokenRe.exec(await readFile(p, "utf8").catch(() => ""))?.[0]));
  // Counted from the watcher's first sync on (before it, the targets hold no token at all).
  const expired = landed.size === 0 ? 0 : held.filter((t) => !t || (expiryOf.get(t) ?? 0) <= now).length;
  if (expired > 0) {
    expiredMs += POLL_MS;
    worstTargetExpiredMs += POLL_MS * expired;
  }
  const common = held[0];
  if (common && held.every((t) => t === common) && !landed.has(common)) landed.set(common, now);
  if (now - started > (cycles + 1) * tokenSeconds * 1000) {
    console.error("giving up: the timeline overran\n" + watcher.output().slice(-3000));
    break;
  }
  await Bun.sleep(POLL_MS);
}
await watcher.stop();

const tokenRequests = fake.tokenRequests();
const rows = fake.issued.slice(0, cycles).map((token, i) => {
  const request = tokenRequests.filter((r) => r.status === 200)[i]!;
  const previous = i === 0 ? first.accessToken : fake.issued[i - 1]!;
  const before = (expiryOf.get(previous)! - request.at) / 1000;
  const propagation = (landed.get(token) ?? NaN) - request.at;
  return { cycle: i + 1, "refreshed s before expiry": before.toFixed(1), "all targets after (ms)": Math.round(propagation) };
});
console.table(rows);
const modelCalls = fake.requests.filter((r) => r.path.startsWith("/v1/messages")).length;
const cliSkips = (watcher.output().match(/\(run [2-9]\)/g) ?? []).length;
console.log(`token requests: ${tokenRequests.length} (${tokenRequests.filter((r) => r.status !== 200).length} failed)`);
console.log(`CLI runs that skipped their refresh and were retried: ${cliSkips} trigger(s) needed a 2nd+ run`);
console.log(`seconds any target held an expired token: ${(expiredMs / 1000).toFixed(1)} (goal 0; target-seconds ${(worstTargetExpiredMs / 1000).toFixed(1)})`);
console.log(`model calls (/v1/messages): ${modelCalls} (goal 0)`);
console.log(`wall time: ${((Date.now() - started) / 1000).toFixed(0)} s`);
await fake.close();
await c.remove();
