import { defineCommand } from "citty";
import { VERSION } from "./version.ts";

const load = <T>(module: Promise<{ default: T }>) => module.then((m) => m.default);

/** The command tree: each verb's file is loaded only when it runs (or when `completion` walks the tree). */
export const main = defineCommand({
  meta: { name: "oauth-sync", version: VERSION, description: "Keep OpenClaw's Anthropic OAuth token in step with Claude Code's" },
  subCommands: {
    watch: () => load(import("./commands/watch.ts")),
    sync: () => load(import("./commands/sync.ts")),
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
