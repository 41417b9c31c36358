import { defineCommand } from "citty";
import { EXIT, ExitError } from "../exit-codes.ts";
import { runInstall, type InstallOutcome } from "../install/flow.ts";
import { terminalAsker } from "../install/wizard.ts";
import { runProcess } from "../process/run.ts";
import { remoteInstallArgs } from "../install/remote-flags.ts";
import { applyVerbosity } from "./_shared.ts";

/** The one place install's outcome becomes an exit code (docs/ARCHITECTURE.md, "Exit codes"). */
const CODES: Record<InstallOutcome, number> = { ok: EXIT.ok, refused: EXIT.misconfigured, failed: EXIT.installFailed, unhealthy: EXIT.installUnhealthy };

export default defineCommand({
  meta: { name: "install", description: "Install the binary, the config and the systemd units, and start them (idempotent; an existing config keeps what you wrote)" },
  args: {
    config: { type: "string", alias: "c", description: "A prepared config file to install as it is (validated)" },
    yes: { type: "boolean", alias: "y", description: "Ask nothing: accept what detection adds, keep everything you wrote" },
    "dry-run": { type: "boolean", description: "Print every file and command, change nothing" },
    user: { type: "boolean", description: "Install user units (systemctl --user) instead of system units" },
    "config-path": { type: "string", description: "Where the config goes (default /etc/oauth-sync/config.json)" },
    "bin-dir": { type: "string", description: "Where the binary goes (default /usr/local/bin)" },
    credentials: { type: "string", description: "Claude Code credentials file (default: detected)" },
    "openclaw-dir": { type: "string", description: "OpenClaw state dir (default: detected)" },
    "project-dir": { type: "string", description: "OpenClaw compose project (default: detected)" },
    release: { type: "string", description: "OpenClaw release, e.g. 2026.9.6 (default: detected)" },
    service: { type: "string", description: "The gateway's compose service (default: detected)" },
    trigger: { type: "string", description: "Refresh trigger: host, container or none (default: detected)" },
    container: { type: "string", description: "Container that runs claude, for --trigger container" },
    model: { type: "string", description: "Set agents.defaults.model.primary in openclaw.json, e.g. anthropic/claude-sonnet-4-5" },
    "fix-model-config": { type: "boolean", description: "Fix the known traps in openclaw.json (comments kept; backed up first where they cannot be)" },
    reconfigure: { type: "boolean", description: "Start the config from detection instead of keeping the one there (which is kept beside as a backup)" },
    prune: { type: "boolean", description: "Drop targets detection no longer finds, and remove the token copies only oauth-sync wrote for them" },
    "cross-user": { type: "boolean", description: "Pair a Claude login with an OpenClaw of another user (refused without it)" },
    "max-agents": { type: "string", description: "Propose up to this many agents from an OpenClaw directory another user owns (default 8)" },
    downgrade: { type: "boolean", description: "Install this build over a newer one" },
    test: { type: "boolean", default: true, description: "Run the refresh trigger once after installing (--no-test: do not)" },
    completion: { type: "boolean", description: "Also install shell completion for bash (with bash-completion), zsh and fish, where installed" },
    ...remoteInstallArgs,
    verbose: { type: "boolean", alias: "v" },
    quiet: { type: "boolean", alias: "q" },
  },
  async run({ args }) {
    applyVerbosity(args);
    const ask = process.stdin.isTTY && !args.yes ? terminalAsker : undefined;
    const outcome = args.push || args.receiver ? await (await import("../install/remote-command.ts")).installRemote(args) : await runInstall(args, { run: runProcess, execPath: process.execPath, ask });
    if (outcome !== "ok") throw new ExitError(CODES[outcome]);
  },
});
