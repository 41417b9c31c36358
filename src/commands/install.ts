import { defineCommand } from "citty";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseConfig } from "../config/load.ts";
import { EXIT } from "../exit-codes.ts";
import { detect, formatDetection } from "../install/detect.ts";
import { install } from "../install/install.ts";
import { liveTriggerTest } from "../install/live-test.ts";
import { applyModelConfig, findTraps, type Trap } from "../install/model-config.ts";
import { proposeConfig } from "../install/propose.ts";
import { installLayout } from "../install/plan.ts";
import { logger, print } from "../log/logger.ts";
import { minimalEnv, runProcess } from "../process/run.ts";
import { applyVerbosity } from "./_shared.ts";

export default defineCommand({
  meta: { name: "install", description: "Install the binary, the config and the systemd units, and start them (idempotent)" },
  args: {
    config: { type: "string", alias: "c", description: "A prepared config file to install as it is (validated)" },
    yes: { type: "boolean", alias: "y", description: "Ask nothing" },
    "dry-run": { type: "boolean", description: "Print every file and command, change nothing" },
    user: { type: "boolean", description: "Install user units (systemctl --user) instead of system units" },
    "config-path": { type: "string", description: "Where the config goes (default /etc/oauth-sync/config.json)" },
    "bin-dir": { type: "string", description: "Where the binary goes (default /usr/local/bin)" },
    credentials: { type: "string", description: "Claude Code credentials file (default: detected)" },
    "openclaw-dir": { type: "string", description: "OpenClaw state dir (default: detected)" },
    "project-dir": { type: "string", description: "OpenClaw compose project (default: detected)" },
    release: { type: "string", description: "OpenClaw release, e.g. 2026.9.6 (default: detected)" },
    model: { type: "string", description: "Set agents.defaults.model.primary in openclaw.json, e.g. anthropic/claude-sonnet-4-5" },
    "fix-model-config": { type: "boolean", description: "Fix the known traps in openclaw.json (backed up first if it is JSON5)" },
    test: { type: "boolean", default: true, description: "Run the refresh trigger once after installing (--no-test: do not)" },
    verbose: { type: "boolean", alias: "v" },
    quiet: { type: "boolean", alias: "q" },
  },
  async run({ args }) {
    applyVerbosity(args);
    const layout = installLayout({ user: args.user, configPath: args["config-path"], binDir: args["bin-dir"] });
    const text = args.config ? await readPrepared(args.config) : await detectedConfig(args);
    const parsed = parseConfig(text, layout.configPath);
    if (!parsed.ok) {
      for (const error of parsed.errors) logger.error(error.replace(layout.configPath, args.config ?? "the detected config"));
      process.exit(EXIT.misconfigured);
    }
    const result = await install(parsed.config, text, layout, { run: runProcess, execPath: process.execPath, dryRun: Boolean(args["dry-run"]) });
    if (!result.ok) {
      logger.error(`install failed: ${result.error}`);
      process.exit(EXIT.targetFailed);
    }
    if (args["dry-run"]) return;
    if (layout.user) await lingerAdvice();
    if (args.test) {
      const live = await liveTriggerTest(parsed.config, runProcess);
      for (const line of live.lines) (live.ok ? print : logger.warn)(line);
    }
    print(result.changed.length ? `installed; changed: ${result.changed.join(", ")}` : "already installed; nothing changed");
    if (result.restarted.length) print(`restarted: ${result.restarted.join(", ")}`);
    print(`watch it: systemctl status oauth-sync · journalctl -u oauth-sync -f · oauth-sync status --config ${layout.configPath}`);
  },
});

async function readPrepared(path: string): Promise<string> {
  return readFile(path, "utf8").catch((error) => {
    logger.error(`cannot read ${path}: ${error.message}`);
    return process.exit(EXIT.misconfigured);
  });
}

/** Detection → a proposed config, shown with where each finding came from; confirmed unless --yes. */
async function detectedConfig(args: Record<string, unknown>): Promise<string> {
  const detection = await detect(
    "/",
    { credentials: args.credentials as string, openclawDir: args["openclaw-dir"] as string, projectDir: args["project-dir"] as string, release: args.release as string },
    { run: runProcess, now: Date.now(), cwd: process.cwd() },
  );
  for (const line of formatDetection(detection)) print(line);
  if (!detection.login || !detection.install) {
    logger.error("cannot propose a config without a Claude login and an OpenClaw install: pass the flags above, or --config FILE");
    process.exit(EXIT.misconfigured);
  }
  const proposal = proposeConfig(detection.install.value, detection.login.value, {
    claudeOnHost: detection.claudeOnHost,
    containers: detection.containers.map((c) => c.value),
    gatewayUnit: detection.gatewayUnit,
  });
  for (const note of proposal.notes) logger.warn(note);
  await modelConfigStep(join(detection.install.value.stateDir, "openclaw.json"), args);
  const text = `${JSON.stringify(proposal.config, null, 2)}\n`;
  print(`config to install:\n${text}`);
  if (!args.yes) {
    if (!process.stdin.isTTY) {
      logger.error("no terminal to ask on: re-run with --yes to accept, or --config FILE");
      process.exit(EXIT.misconfigured);
    }
    const ok = await logger.prompt("Install with this config?", { type: "confirm", initial: true, cancel: "null" });
    if (ok !== true) process.exit(EXIT.misconfigured);
  }
  return text;
}

/** Anthropic model settings in openclaw.json: traps reported always, changed only with consent (a flag or a yes). */
async function modelConfigStep(path: string, args: Record<string, unknown>) {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return;
  let traps: Trap[];
  try {
    traps = findTraps(Bun.JSON5.parse(text) as Record<string, unknown>);
  } catch {
    logger.warn(`${path} does not parse: its model settings were not checked`);
    return;
  }
  for (const trap of traps) logger.warn(`${path}: ${trap.problem}; fix: ${trap.fix}`);
  let consent = Boolean(args["fix-model-config"] || args.model);
  if (!consent && traps.length && !args.yes && process.stdin.isTTY) {
    consent = (await logger.prompt(`Fix ${traps.length} problem(s) in ${path}?`, { type: "confirm", initial: true, cancel: "null" })) === true;
  }
  if (!consent) return;
  if (args["dry-run"]) return print(`would fix the model settings in ${path}${args.model ? ` and set the primary model to ${args.model}` : ""}`);
  const result = await applyModelConfig(path, { primaryModel: args.model as string | undefined });
  if (result.changed) logger.success(`updated ${path}${result.note ? ` (${result.note})` : ""}`);
}

/** User units stop with the user's last session unless lingering is on: say so, with the command. */
async function lingerAdvice() {
  const user = process.env.USER || process.env.LOGNAME || (await runProcess(["id", "-un"], { env: minimalEnv(), timeoutMs: 5000 })).stdout.trim();
  const linger = await runProcess(["loginctl", "show-user", user, "-p", "Linger", "--value"], { env: minimalEnv(), timeoutMs: 5000 });
  if (linger.stdout.trim() !== "yes") logger.warn(`lingering is off for ${user}: the units stop when ${user} logs out. Turn it on: \`sudo loginctl enable-linger ${user}\``);
}
