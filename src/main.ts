import { renderUsage, runMain, type CommandDef } from "citty";
import { stripVTControlCharacters } from "node:util";
import { main } from "./cli.ts";
import { fancyOutput, print, printOwnColours } from "./log/logger.ts";
import { installCrashHandlers } from "./commands/_edge.ts";
import { AS_OWNER_VERB } from "./privilege/self.ts";
import { restartWithServiceRuntime } from "./process/service-runtime.ts";

/** citty colours its help unconditionally; plain text for pipes, journald and NO_COLOR. */
async function showUsage(command: CommandDef, parent?: CommandDef) {
  const usage = await renderUsage(command, parent);
  if (fancyOutput()) printOwnColours(usage);
  else print(stripVTControlCharacters(usage));
}

restartWithServiceRuntime();
installCrashHandlers();
if (process.argv[2] === AS_OWNER_VERB) {
  // Not a verb for people: root starts it with another user's uid to act in that user's place.
  import("./privilege/child.ts").then(async ({ serveOwnerRequest }) => process.exit(await serveOwnerRequest()));
} else {
  runMain(main, { showUsage: showUsage as never });
}
