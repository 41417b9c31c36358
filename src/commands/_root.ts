import type { CommandDef } from "citty";

/**
 * What `runCli` hands the verb it runs, as citty's `data`: the command tree it was started from. `completion` and
 * `install --completion` walk that tree; taking it from here instead of importing src/cli.ts keeps the imports one
 * way (cli.ts loads the verbs, the verbs never load cli.ts).
 */
export interface RunData {
  root: CommandDef;
}

/** The tree the running verb was dispatched from: `data` of its citty context. Without it, the verb was not started by runCli: a bug. */
export function commandRoot(data: unknown): CommandDef {
  const root = (data as Partial<RunData> | undefined)?.root;
  if (!root) throw new Error("the command tree was not handed to this verb (it runs through runCli)");
  return root;
}
