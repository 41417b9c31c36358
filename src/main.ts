import { defineCommand, renderUsage, runMain, type CommandDef } from "citty";
import { stripVTControlCharacters } from "node:util";
import { fancyOutput, print } from "./log/logger.ts";
import { VERSION } from "./version.ts";
import { guardCommand, installCrashHandlers } from "./commands/_edge.ts";
import { AS_OWNER_VERB } from "./privilege/self.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = <T>(module: Promise<{ default: T }>) => module.then((m) => guardCommand(m.default as CommandDef<any>) as T);

export const main = defineCommand({
  meta: { name: "oauth-sync", version: VERSION, description: "Keep OpenClaw's Anthropic OAuth token in step with Claude Code's" },
  subCommands: {
    watch: () => load(import("./commands/watch.ts")),
    sync: () => load(import("./commands/sync.ts")),
    receive: () => load(import("./commands/receive.ts")),
    reload: () => load(import("./commands/reload.ts")),
    check: () => load(import("./commands/check.ts")),
    refresh: () => load(import("./commands/refresh.ts")),
    notify: () => load(import("./commands/notify.ts")),
    install: () => load(import("./commands/install.ts")),
    uninstall: () => load(import("./commands/uninstall.ts")),
    status: () => load(import("./commands/status.ts")),
    units: () => load(import("./commands/units.ts")),
    config: () => load(import("./commands/config.ts")),
    demo: () => load(import("./commands/demo.ts")),
  },
});

/** citty colours its help unconditionally; plain text for pipes, journald and NO_COLOR. */
async function showUsage(command: CommandDef, parent?: CommandDef) {
  const usage = await renderUsage(command, parent);
  print(fancyOutput() ? usage : stripVTControlCharacters(usage));
}

installCrashHandlers();
if (process.argv[2] === AS_OWNER_VERB) {
  // Not a verb for people: root starts it with another user's uid to act in that user's place.
  import("./privilege/child.ts").then(async ({ serveOwnerRequest }) => process.exit(await serveOwnerRequest()));
} else {
  runMain(main, { showUsage: showUsage as never });
}
