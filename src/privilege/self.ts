import { fileURLToPath } from "node:url";

/** How to start this very program again: the compiled binary, or bun with the entry file when run from source. */
export function selfCommand(): string[] {
  const compiled = import.meta.url.includes("$bunfs") || import.meta.path.startsWith("/$bunfs/");
  return compiled ? [process.execPath] : [process.execPath, fileURLToPath(new URL("../main.ts", import.meta.url))];
}

/** The hidden verb a root process starts, with another user's uid and gid, to act in that user's place. */
export const AS_OWNER_VERB = "__as-owner";
