import { defineCommand } from "citty";
import { commandTree } from "../completion/tree.ts";
import { EXIT, ExitError } from "../exit-codes.ts";
import { runInstall, type InstallOutcome } from "../install/flow.ts";
import { terminalAsker } from "../install/wizard.ts";
import { runProcess } from "../process/run.ts";
import { remoteInstallArgs } from "../install/remote-flags.ts";
import { checked, fileOrLater, releaseVersion, wholeNumber } from "../argv/checks.ts";
import { dockerNeedOfFlags, preflight, preflightConfig, realPreflightDeps } from "../install/preflight.ts";
import { applyVerbosity } from "./_shared.ts";
import { commandRoot } from "./_root.ts";

/** The one place install's outcome becomes an exit code (docs/ARCHITECTURE.md, "Exit codes"). */
const CODES: Record<InstallOutcome, number> = { ok: EXIT.ok, refused: EXIT.misconfigured, failed: EXIT.installFailed, unhealthy: EXIT.installUnhealthy };

export default defineCommand({
  meta: { name: "install", description: "Install the binary, the config and the systemd units, and start them (idempotent; an existing config keeps what you wrote)" },
  args: {
    config: { type: "string", alias: "c", valueHint: "FILE", description: "A prepared config file to install as it is (validated)" },
    yes: { type: "boolean", alias: "y", description: "Ask nothing: accept what detection adds, keep everything you wrote" },
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
    reconfigure: { type: "boolean", description: "Start the config from detection instead of keeping the one there (which is kept beside as a backup)" },
    prune: { type: "boolean", description: "Drop targets detection no longer finds, and remove the token copies only oauth-sync wrote for them" },
    "cross-user": { type: "boolean", description: "Pair a Claude login with an OpenClaw of another user (refused without it)" },
    "max-agents": checked({ type: "string", valueHint: "N", description: "Propose up to N agents from an OpenClaw directory another user owns (default 8)" }, wholeNumber(1, 10_000)),
    downgrade: { type: "boolean", description: "Install this build over a newer one" },
    test: { type: "boolean", default: true, description: "Run the refresh trigger once after installing" },
    completion: { type: "boolean", description: "Also install shell completion for bash (with bash-completion), zsh and fish, where installed" },
    ...remoteInstallArgs,
    verbose: { type: "boolean", alias: "v", description: "Log every step" },
    quiet: { type: "boolean", alias: "q", description: "Log only warnings and errors" },
  },
  async run({ args, data }) {
    applyVerbosity(args);
    const root = commandRoot(data);
    const machine = { user: Boolean(args.user), dryRun: Boolean(args["dry-run"]) };
    const remote = Boolean(args.push || args.receiver);
    // Before anything is detected or written (a push or receiver setup installs no units of its own).
    await preflight({ ...machine, systemd: !remote, docker: remote ? "no" : dockerNeedOfFlags(args) }, realPreflightDeps(runProcess));
    const ask = process.stdin.isTTY && !args.yes ? terminalAsker : undefined;
    const outcome = remote
      ? await (await import("../install/remote-command.ts")).installRemote(args)
      : await runInstall(args, { run: runProcess, execPath: process.execPath, ask, completionTree: async () => commandTree(root), checkConfig: (config) => preflightConfig(config, machine, realPreflightDeps(runProcess)) });
    if (outcome !== "ok") throw new ExitError(CODES[outcome]);
  },
});
