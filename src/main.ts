import { defineCommand, runMain } from "citty";
import { VERSION } from "./version.ts";

const load = <T>(module: Promise<{ default: T }>) => module.then((m) => m.default);

export const main = defineCommand({
  meta: { name: "oauth-sync", version: VERSION, description: "Keep OpenClaw's Anthropic OAuth token in step with Claude Code's" },
  subCommands: {
    watch: () => load(import("./commands/watch.ts")),
    sync: () => load(import("./commands/sync.ts")),
    config: () => load(import("./commands/config.ts")),
    demo: () => load(import("./commands/demo.ts")),
  },
});

runMain(main);
