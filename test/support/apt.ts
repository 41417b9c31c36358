import { existsSync } from "node:fs";

/**
 * Install the Debian packages whose marker file is missing (CI starts from a bare machine, as root). Waits for the
 * dpkg lock rather than failing when another apt-get holds it.
 */
export function aptEnsure(needed: Record<string, string>): void {
  const missing = [...new Set(Object.entries(needed).filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg))];
  if (!missing.length) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  for (const args of [["update", "-qq", ...lock], ["install", "-y", "-qq", "--no-install-recommends", ...lock, ...missing]]) {
    const apt = Bun.spawnSync(["apt-get", ...args], { env, stdout: "pipe", stderr: "pipe" });
    if (apt.exitCode !== 0) throw new Error(`apt-get ${args.join(" ")} failed: ${apt.stderr.toString().slice(-2000)}`);
  }
}
