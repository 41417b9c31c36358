import { defineCommand } from "citty";
import { main } from "../cli.ts";
import { commandTree } from "../completion/tree.ts";
import { parseConfig } from "../config/load.ts";
import { EXIT, ExitError } from "../exit-codes.ts";
import { homedir } from "node:os";
import { completionAdvice, completionPaths, installCompletion, installedShells, type Shell } from "../install/completion.ts";
import { install } from "../install/install.ts";
import { liveTriggerTest } from "../install/live-test.ts";
import { installLayout } from "../install/plan.ts";
import { detectedConfig, finalVerification, lingerAdvice, readPrepared } from "../install/wizard.ts";
import { logger, print } from "../log/logger.ts";
import { registerWebhookSecrets } from "../notify/send.ts";
import { runProcess } from "../process/run.ts";
import { remoteInstallArgs } from "../install/remote-flags.ts";
import { checked, fileOrLater, releaseVersion } from "../argv/checks.ts";
import { dockerNeedOfFlags, preflight, preflightConfig, realPreflightDeps } from "../install/preflight.ts";
import { applyVerbosity } from "./_shared.ts";

const pick = (paths: Record<Shell, string>, shells: Shell[]) => Object.fromEntries(shells.map((s) => [s, paths[s]]));

export default defineCommand({
  meta: { name: "install", description: "Install the binary, the config and the systemd units, and start them (idempotent)" },
  args: {
    config: { type: "string", alias: "c", valueHint: "FILE", description: "A prepared config file to install as it is (validated)" },
    yes: { type: "boolean", alias: "y", description: "Ask nothing" },
    "dry-run": { type: "boolean", description: "Print every file and command, change nothing" },
    user: { type: "boolean", description: "Install user units (systemctl --user) instead of system units" },
    "config-path": { type: "string", valueHint: "FILE", description: "Where the config goes (default /etc/oauth-sync/config.json)" },
    "bin-dir": { type: "string", valueHint: "DIR", description: "Where the binary goes (default /usr/local/bin)" },
    credentials: checked({ type: "string", valueHint: "FILE", description: "Claude Code credentials file (default: detected)" }, fileOrLater("the service")),
    "openclaw-dir": { type: "string", valueHint: "DIR", description: "OpenClaw state dir (default: detected)" },
    "project-dir": { type: "string", valueHint: "DIR", description: "OpenClaw compose project (default: detected)" },
    release: checked({ type: "string", valueHint: "VERSION", description: "OpenClaw release, e.g. 2026.9.6 (default: detected)" }, releaseVersion),
    service: { type: "string", valueHint: "NAME", description: "The gateway's compose service (default: detected)" },
    trigger: { type: "enum", options: ["host", "container", "none"], description: "Refresh trigger (default: detected)" },
    container: { type: "string", valueHint: "NAME", description: "Container that runs claude, for --trigger container" },
    model: { type: "string", valueHint: "MODEL", description: "Set agents.defaults.model.primary in openclaw.json, e.g. anthropic/claude-sonnet-4-5" },
    "fix-model-config": { type: "boolean", description: "Fix the known traps in openclaw.json (comments kept; backed up first where they cannot be)" },
    test: { type: "boolean", default: true, description: "Run the refresh trigger once after installing" },
    completion: { type: "boolean", description: "Also install shell completion for bash (with bash-completion), zsh and fish, where installed" },
    ...remoteInstallArgs,
    verbose: { type: "boolean", alias: "v", description: "Log every step" },
    quiet: { type: "boolean", alias: "q", description: "Log only warnings and errors" },
  },
  async run({ args }) {
    applyVerbosity(args);
    const machine = { user: Boolean(args.user), dryRun: Boolean(args["dry-run"]) };
    const remote = Boolean(args.push || args.receiver);
    // Before anything is detected or written (a push or receiver setup installs no units of its own).
    await preflight({ ...machine, systemd: !remote, docker: remote ? "no" : dockerNeedOfFlags(args) }, realPreflightDeps(runProcess));
    if (remote) return (await import("../install/remote-command.ts")).installRemote(args);
    const layout = installLayout({ user: args.user, configPath: args["config-path"], binDir: args["bin-dir"] });
    const text = args.config ? await readPrepared(args.config) : await detectedConfig(args);
    const parsed = parseConfig(text, layout.configPath);
    if (!parsed.ok) {
      for (const error of parsed.errors) logger.error(error.replace(layout.configPath, args.config ?? "the detected config"));
      throw new ExitError(EXIT.misconfigured);
    }
    registerWebhookSecrets(parsed.config.notify.webhooks); // a dry run prints the config: its webhook URLs stay hidden
    await preflightConfig(parsed.config, machine, realPreflightDeps(runProcess));
    const result = await install(parsed.config, text, layout, { run: runProcess, execPath: process.execPath, dryRun: Boolean(args["dry-run"]) });
    if (!result.ok) {
      logger.error(`install failed: ${result.error}`);
      throw new ExitError(EXIT.installFailed);
    }
    const completionFiles = pick(completionPaths(layout.user, homedir()), installedShells());
    const completion = args.completion ? await installCompletion(await commandTree(main), completionFiles, Boolean(args["dry-run"])) : [];
    if (args["dry-run"]) {
      for (const path of completion) print(`would write shell completion ${path}`);
      return;
    }
    result.changed.push(...completion);
    if (layout.user) await lingerAdvice();
    if (args.test) {
      const live = await liveTriggerTest(parsed.config, runProcess);
      if (live.ok) print(live.lines);
      else for (const line of live.lines) logger.warn(line);
    }
    print(result.changed.length ? `installed; changed: ${result.changed.join(", ")}` : "already installed; nothing changed");
    if (result.restarted.length) print(`restarted: ${result.restarted.join(", ")}`);
    if (!(await finalVerification(parsed.config, layout))) logger.warn("not healthy yet: see the problem above, `journalctl -u oauth-sync`, and docs/TROUBLESHOOTING.md");
    if (!args.completion) print("shell completion: install --completion, or `oauth-sync completion bash|zsh|fish`");
    else for (const advice of completionAdvice(layout.user, completionFiles)) print(advice);
    print(`watch it: systemctl status oauth-sync · journalctl -u oauth-sync -f · oauth-sync status --config ${layout.configPath}`);
  },
});
