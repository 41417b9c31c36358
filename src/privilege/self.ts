import { fileURLToPath } from "node:url";

/** How to start this very program again: the compiled binary, or bun with the entry file when run from source. */
export function selfCommand(): string[] {
  // The bundler fixes import.meta at build time; Bun.main tells at run time whether we are the compiled binary.
  const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
  return compiled ? [process.execPath] : [process.execPath, fileURLToPath(new URL("../main.ts", import.meta.url))];
}

/** The hidden verb a root process starts, with another user's uid and gid, to act in that user's place. */
export const AS_OWNER_VERB = "__as-owner";
