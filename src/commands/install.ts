import { defineCommand } from "citty";
import { readFile } from "node:fs/promises";
import { parseConfig } from "../config/load.ts";
import { EXIT } from "../exit-codes.ts";
import { install } from "../install/install.ts";
import { installLayout } from "../install/plan.ts";
import { logger, print } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
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
    verbose: { type: "boolean", alias: "v" },
    quiet: { type: "boolean", alias: "q" },
  },
  async run({ args }) {
    applyVerbosity(args);
    if (!args.config) {
      logger.error("install needs a prepared config for now: `oauth-sync install --config FILE --yes` (the detecting wizard is not built yet; see docs/ARCHITECTURE.md)");
      process.exit(EXIT.misconfigured);
    }
    const layout = installLayout({ user: args.user, configPath: args["config-path"], binDir: args["bin-dir"] });
    const text = await readFile(args.config, "utf8").catch((error) => {
      logger.error(`cannot read ${args.config}: ${error.message}`);
      process.exit(EXIT.misconfigured);
    });
    const parsed = parseConfig(text, layout.configPath);
    if (!parsed.ok) {
      for (const error of parsed.errors) logger.error(error.replace(layout.configPath, args.config));
      process.exit(EXIT.misconfigured);
    }
    const result = await install(parsed.config, text, layout, { run: runProcess, execPath: process.execPath, dryRun: Boolean(args["dry-run"]) });
    if (!result.ok) {
      logger.error(`install failed: ${result.error}`);
      process.exit(EXIT.targetFailed);
    }
    if (args["dry-run"]) return;
    print(result.changed.length ? `installed; changed: ${result.changed.join(", ")}` : "already installed; nothing changed");
    if (result.restarted.length) print(`restarted: ${result.restarted.join(", ")}`);
    print(`watch it: systemctl status oauth-sync · journalctl -u oauth-sync -f · oauth-sync status --config ${layout.configPath}`);
  },
});
