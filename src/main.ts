import { renderUsage, runMain, type CommandDef } from "citty";
import { stripVTControlCharacters } from "node:util";
import { main } from "./cli.ts";
import { fancyOutput, print } from "./log/logger.ts";

/** citty colours its help unconditionally; plain text for pipes, journald and NO_COLOR. */
async function showUsage(command: CommandDef, parent?: CommandDef) {
  const usage = await renderUsage(command, parent);
  print(fancyOutput() ? usage : stripVTControlCharacters(usage));
}

runMain(main, { showUsage: showUsage as never });
