import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDirs } from "./temp.ts";

/**
 * Makes a machine's file tree under a temp root: `files` maps absolute paths to contents; returns the root. Call at a
 * test file's top level: the trees go after its tests (test/support/temp.ts).
 */
export function treeMaker(prefix = "oauth-sync-tree-") {
  const temp = tempDirs();
  return async (files: Record<string, string>): Promise<string> => {
    const root = temp(prefix);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(root, path, ".."), { recursive: true });
      await writeFile(join(root, path), text);
    }
    return root;
  };
}
