/**
 * The floor for bench/idle.ts: the least a compiled Bun binary with @parcel/watcher can do for this job. It watches
 * the credentials' directory and, on an event naming the file, copies it to the target (temp file + rename).
 *   min-watcher CREDENTIALS TARGET
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { watcher } from "../../src/watch/native.ts";

const [credentials, target] = process.argv.slice(2) as [string, string];
const name = basename(credentials);
const copy = () => {
  const temp = `${target}.tmp`;
  writeFileSync(temp, readFileSync(credentials), { mode: 0o600 });
  renameSync(temp, target);
};
copy();
// No top-level await: the bytecode build (as build.ts makes oauth-sync) is CommonJS.
void watcher
  .subscribe(dirname(credentials), (_error, events) => {
    if (events.some((event) => basename(event.path) === name)) copy();
  }, { backend: "inotify" })
  .then(() => console.log("ready"));
