/**
 * Push latency over real OpenSSH on loopback: the credentials renamed into place on the source (compiled binary's
 * `watch`) → both receivers' targets written by `oauth-sync receive` (sshd on 127.0.0.2 as root, on 127.0.0.3 as an
 * unprivileged login). Needs root; installs openssh-server when missing.
 *   bun bench/push.ts [rotations=30]
 * Goal (printed, not asserted): p50 ≤ 500 ms.
 */
import { randomBytes } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import { credentialsJson, fakeToken, waitForToken } from "../src/demo/sandbox.ts";
import { requireBinary, start } from "../test/support/binary.ts";
import { createBed, wireSource } from "../test/support/ssh-bed.ts";
import { percentile } from "./support/percentile.ts";

const rotations = Number(process.argv[2] ?? 30);
const HOUR = 3_600_000;

const bed = await createBed();
const source = wireSource(bed, requireBinary());
for (const r of bed.receivers) await r.start();
const login = (accessToken: string, expiresAt: number) => {
  const temp = `${source.credentials}.tmp.${randomBytes(4).toString("hex")}`;
  writeFileSync(temp, credentialsJson(accessToken, expiresAt), { mode: 0o600 });
  renameSync(temp, source.credentials);
};
const paths = bed.receivers.flatMap((r) => [r.targets.authProfiles, r.targets.env]);
const first = fakeToken();
login(first, Date.now() + 8 * HOUR);
const watcher = start(["watch", "--config", source.configPath, "--quiet"]);
try {
  await waitForToken(paths, first, 20_000);
  const samples: number[] = [];
  for (let i = 0; i < rotations; i++) {
    const token = fakeToken();
    const started = performance.now();
    login(token, Date.now() + 8 * HOUR + i * 1000);
    samples.push(await waitForToken(paths, token, 10_000, started));
    await Bun.sleep(200);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const row = (name: string, value: string, goal: string) => console.log(`${name.padEnd(8)} ${value.padStart(10)}   ${goal}`);
  console.log(`push latency over ${rotations} rotations: rename on the source → ${bed.receivers.length} receivers' targets (${paths.length} files) written, real OpenSSH over loopback`);
  row("p50", `${percentile(sorted, 50).toFixed(0)} ms`, "goal ≤ 500 ms");
  row("p90", `${percentile(sorted, 90).toFixed(0)} ms`, "");
  row("max", `${sorted.at(-1)!.toFixed(0)} ms`, "");
  row("min", `${sorted[0]!.toFixed(0)} ms`, "");
} catch (error) {
  console.error(`${(error as Error).message}\nwatcher output:\n${watcher.output()}`);
  process.exitCode = 1;
} finally {
  await watcher.stop();
  await bed.cleanup();
}
