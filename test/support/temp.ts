import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Temp directories for one test file, removed after its tests whether they passed or not. Call it at the file's top
 * level (it registers the file's afterAll): bun test fires no exit handlers, and a test that fails before its own
 * clean-up left its directory behind (the suite once left some 2 400 in /tmp, a 70 MB binary among them).
 */
export function tempDirs() {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
