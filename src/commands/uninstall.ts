import { defineCommand } from "citty";
import { homedir } from "node:os";
import { completionPaths, removeCompletion } from "../install/completion.ts";
import { uninstall } from "../install/uninstall.ts";
import { installLayout } from "../install/plan.ts";
import { print } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { applyVerbosity } from "./_shared.ts";

export default defineCommand({
  meta: { name: "uninstall", description: "Stop and remove the units and the binary install put in place (config and state kept unless --purge)" },
  args: {
    purge: { type: "boolean", description: "Also remove the config and the state directory" },
    user: { type: "boolean", description: "The user units of a --user install" },
    verbose: { type: "boolean", alias: "v", description: "Log every step" },
    quiet: { type: "boolean", alias: "q", description: "Log only warnings and errors" },
  },
  async run({ args }) {
    applyVerbosity(args);
    const removed = await uninstall(installLayout({ user: args.user }), { purge: Boolean(args.purge), run: runProcess });
    removed.push(...(await removeCompletion(completionPaths(Boolean(args.user), homedir()))));
    print(removed.length ? `removed: ${removed.join(", ")}` : "nothing to remove");
  },
});
