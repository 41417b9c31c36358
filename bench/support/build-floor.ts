import { join } from "node:path";

/** The floor watcher (floor-watcher.ts) compiled the way build.ts compiles oauth-sync: bytecode, minified, --smol. */
export function buildFloor(dir: string): string {
  const outfile = join(dir, "floor-watcher");
  const build = Bun.spawnSync(
    [process.execPath, "build", "--compile", "--minify", "--bytecode", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
      "--compile-exec-argv=--smol", "--outfile", outfile, join(import.meta.dir, "floor-watcher.ts")],
    { stderr: "pipe" },
  );
  if (build.exitCode !== 0) throw new Error(`building the floor watcher failed: ${build.stderr}`);
  return outfile;
}
