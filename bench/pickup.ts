/**
 * How fast a running OpenClaw gateway uses a token oauth-sync synced, without a restart (see
 * test/support/gateway-pickup.ts for the set-up: real gateway, local fake Anthropic endpoint, real `openclaw agent`).
 *   bun bench/pickup.ts [rotations=3] [releases=2026.5.28,2026.9.6]
 */
import { measurePickup } from "../test/support/gateway-pickup.ts";

const rotations = Number(process.argv[2] ?? 3);
const releases = (process.argv[3] ?? "2026.5.28,2026.9.6").split(",");

for (const version of releases) {
  const { delays, samePid, throughGateway } = await measurePickup(version, rotations);
  const s = [...delays].sort((a, b) => a - b);
  console.log(
    `${version}: new token used by the running gateway ${delays.length}/${rotations} times, no restart (same pid: ${samePid}); ` +
      `delay from sync to the first request carrying it: median ${(s[Math.floor(s.length / 2)]! / 1000).toFixed(1)} s, min ${(s[0]! / 1000).toFixed(1)} s, max ${(s.at(-1)! / 1000).toFixed(1)} s (includes one \`openclaw agent\` turn); ` +
      `every measured turn went through the gateway (none fell back to an embedded agent; once stopped, a turn reached the endpoint only by the reported fallback): ${throughGateway}`,
  );
}
