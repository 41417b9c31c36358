import { closeSync, unlinkSync } from "node:fs";
import { basename, dirname } from "node:path";
import { requireOwnPlace } from "./place.ts";
import { at, openDir } from "./walk.ts";

/** Removes a file (never what a link points to) in a place of ours, looked up in its directory opened link by link. */
export function removeFileHere(path: string): void {
  const dir = openDir(dirname(path));
  try {
    requireOwnPlace(dir.chain, dir.path);
    unlinkSync(at(dir.fd, basename(path)));
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  } finally {
    closeSync(dir.fd);
  }
}
