import { defineCommand } from "citty";
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { loadConfig } from "../config/load.ts";
import { createSandbox, fakeToken, removeSandbox, rotate, waitForToken } from "../demo/sandbox.ts";
import { logger, print } from "../log/logger.ts";
import { fingerprint } from "../log/redact.ts";
import { runProcess } from "../process/run.ts";
import { createWatchService } from "../watch/service.ts";
import { checked, wholeNumber } from "../argv/checks.ts";
import { applyVerbosity } from "./_shared.ts";

const HOUR = 3_600_000;

export default defineCommand({
  meta: { name: "demo", description: "Show the watcher at work on a throwaway sandbox (no OpenClaw needed)" },
  args: {
    rotations: checked({ type: "string", default: "5", valueHint: "N", description: "How many times to rotate the token" }, wholeNumber(1, 10_000)),
    keep: { type: "boolean", description: "Keep the sandbox directory afterwards" },
    verbose: { type: "boolean", alias: "v", description: "Log every step" },
  },
  async run({ args }) {
    // The demo prints its own lines; the service's log would repeat them.
    applyVerbosity({ verbose: args.verbose, quiet: !args.verbose });
    const rotations = Number(args.rotations);
    const sandbox = await createSandbox();
    const loaded = await loadConfig(sandbox.configPath);
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    print(`sandbox: ${sandbox.root}`);
    print(`  Claude Code credentials: ${relative(sandbox.root, sandbox.credentials)}`);
    for (const path of Object.values(sandbox.files)) print(`  target: ${relative(sandbox.root, path)}`);

    await rotate(sandbox, fakeToken(), Date.now() + 8 * HOUR);
    const service = createWatchService(loaded.config, { now: Date.now, run: runProcess });
    await service.start();
    print("watcher started; rotating the token the way Claude Code does (temp file + rename):");

    const timings: number[] = [];
    for (let i = 1; i <= rotations; i++) {
      const token = fakeToken();
      const started = performance.now();
      await rotate(sandbox, token, Date.now() + 8 * HOUR + i * 1000);
      const ms = await waitForToken(Object.values(sandbox.files), token, 5000, started);
      timings.push(ms);
      print(`  rotation ${i}: token ${fingerprint(token)} reached all ${Object.keys(sandbox.files).length} targets in ${ms.toFixed(1)} ms`);
    }
    await service.stop();
    const sorted = [...timings].sort((a, b) => a - b);
    print(`median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms over ${rotations} rotation(s); syncs run: ${service.syncCount}`);
    print(`\n.env afterwards (comments and other variables kept; tokens redacted):\n${await readFile(sandbox.files.envFile, "utf8")}`);
    if (args.keep) logger.info(`sandbox kept at ${sandbox.root}`);
    else await removeSandbox(sandbox);
  },
});
