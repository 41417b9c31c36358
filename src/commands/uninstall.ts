import { defineCommand } from "citty";
import { homedir } from "node:os";
import { EXIT, ExitError } from "../exit-codes.ts";
import { completionPaths, removeCompletion } from "../install/completion.ts";
import { uninstall } from "../install/uninstall.ts";
import { installLayout, whichInstall } from "../install/plan.ts";
import { logger, print } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import { applyVerbosity } from "./_shared.ts";

export default defineCommand({
  meta: { name: "uninstall", description: "Stop and remove the units and the binary install put in place (config and state kept unless --purge)" },
  args: {
    purge: { type: "boolean", description: "Also remove the config, its directory, the state directory and token copies only oauth-sync wrote" },
    user: { type: "boolean", description: "The user units of a --user install (the default for a user who has one)" },
    verbose: { type: "boolean", alias: "v", description: "Log every step" },
    quiet: { type: "boolean", alias: "q", description: "Log only warnings and errors" },
  },
  async run({ args }) {
    applyVerbosity(args);
    const { user } = whichInstall({ user: args.user });
    const result = await uninstall(installLayout({ user }), { purge: Boolean(args.purge), run: runProcess });
    result.removed.push(...(await removeCompletion(completionPaths(user, homedir()))));
    print(result.removed.length ? `removed: ${result.removed.join(", ")}` : "nothing to remove");
    for (const problem of result.problems) logger.error(`not removed: ${problem}`);
    if (result.problems.length) throw new ExitError(EXIT.installFailed);
  },
});
