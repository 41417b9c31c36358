import { defineCommand, type CommandDef } from "citty";
import { VERSION } from "./version.ts";
import { guardCommand } from "./commands/_edge.ts";

/** Each verb wrapped so that a bug ends in one logged line, never a stack trace (src/commands/_edge.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = <T>(module: Promise<{ default: T }>) => module.then((m) => guardCommand(m.default as CommandDef<any>) as T);

/** The command tree: each verb's file is loaded only when it runs (or when `completion` walks the tree). */
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
    completion: () => load(import("./commands/completion.ts")),
  },
});
