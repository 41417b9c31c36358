/**
 * The release before this one, built from the repository's own history: `git archive COMMIT` into a scratch dir,
 * `npm ci`, `bun build.ts`. Cached (by commit) in the test beds' cache, built under a lock, so the upgrade tests
 * install a real earlier binary rather than today's code with another version string.
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";

const CACHE = process.env.OAUTH_SYNC_TESTBED_CACHE ?? join(process.env.HOME ?? "/root", ".cache/oauth-sync-testbed");
const REPO = join(import.meta.dir, "../..");

/** main before the install-life work (issue 19): the release an operator upgrades from. */
export const PREVIOUS_RELEASE = "c36ef8c";

function sh(argv: string[], cwd: string, env: Record<string, string> = {}) {
  const result = Bun.spawnSync(argv, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} (in ${cwd}) failed: ${result.stderr.toString().slice(-2000)}`);
  return result.stdout.toString();
}

/** The compiled binary of `commit` (built once, then taken from the cache). */
export async function previousRelease(commit = PREVIOUS_RELEASE): Promise<string> {
  const full = sh(["git", "rev-parse", "--verify", `${commit}^{commit}`], REPO).trim();
  const dir = join(CACHE, `previous-release-${full.slice(0, 12)}`);
  const binary = join(dir, "oauth-sync");
  if (existsSync(binary)) return binary;
  mkdirSync(CACHE, { recursive: true });
  // One builder at a time (other suites or helpers may want the same build): flock on a file in the cache.
  const lock = join(CACHE, "previous-release.lock");
  closeSync(openSync(lock, "a"));
  const scratch = mkdtempSync(join(CACHE, "previous-release.tmp."));
  try {
    const script = [
      `test -x '${binary}' && exit 0`,
      `git -C '${REPO}' archive ${full} | tar -x -C '${scratch}'`,
      `cd '${scratch}' && npm ci --no-audit --no-fund >npm.log 2>&1 || { tail -20 npm.log >&2; exit 1; }`,
      `cd '${scratch}' && ./node_modules/.bin/bun build.ts --outfile '${scratch}/out/oauth-sync' >build.log 2>&1 || { tail -20 build.log >&2; exit 1; }`,
      `mkdir -p '${dir}' && cp '${scratch}/out/oauth-sync' '${binary}.tmp' && mv '${binary}.tmp' '${binary}'`,
    ].join("\n");
    sh(["flock", "-w", "1800", lock, "sh", "-ec", script], CACHE);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return binary;
}

/** A copy of the binary at `to` (the cache stays as it is). */
export function copyPrevious(binary: string, to: string) {
  copyFileSync(binary, to);
}
