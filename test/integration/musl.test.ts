/**
 * The x64 musl release build in an Alpine-like root: a chroot holding musl's loader (Debian's musl), libstdc++ and
 * libgcc_s, and nothing of glibc. Debian has no musl-built libstdc++, so the root gets Debian's glibc-built one plus a
 * shim for the 7 glibc-only symbols it needs (test/support/musl/glibc-shim.c): this proves Bun's musl runtime, its JIT,
 * the musl @parcel/watcher prebuild and inotify under musl, not Alpine's own libstdc++. Installs musl, musl-tools and
 * gcc with apt-get when they are missing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialsJson, fakeToken } from "../../src/demo/sandbox.ts";
import { aptEnsure } from "../support/apt.ts";

const root = join(import.meta.dir, "../..");
const NEEDED: Record<string, string> = { "/usr/lib/x86_64-linux-musl/libc.so": "musl", "/usr/bin/musl-gcc": "musl-tools", "/usr/bin/gcc": "gcc" };
const GNU_LIBS = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"];

let sysroot: string;

function must(argv: string[]) {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", cwd: root });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr.toString().slice(-2000)}`);
}

async function inRoot(args: string[]) {
  const proc = Bun.spawn(["/usr/sbin/chroot", sysroot, "/bin/oauth-sync", ...args], { env: { PATH: "/bin", HOME: "/tmp" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, output: stdout + stderr };
}

beforeAll(() => {
  aptEnsure(NEEDED);
  sysroot = mkdtempSync(join(tmpdir(), "oauth-sync-musl-root-"));
  for (const sub of ["bin", "lib", "usr/lib", "tmp", "proc"]) mkdirSync(join(sysroot, sub), { recursive: true });
  // Every real system (an Alpine container too) has /proc; oauth-sync opens paths through /proc/self/fd.
  must(["mount", "-t", "proc", "proc", join(sysroot, "proc")]);
  chmodSync(join(sysroot, "tmp"), 0o1777);
  copyFileSync(realpathSync("/usr/lib/x86_64-linux-musl/libc.so"), join(sysroot, "lib/ld-musl-x86_64.so.1"));
  for (const lib of GNU_LIBS) copyFileSync(realpathSync(lib), join(sysroot, "usr/lib", lib.split("/").pop()!));
  must(["musl-gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname,ld-linux-x86-64.so.2", "-o", join(sysroot, "usr/lib/ld-linux-x86-64.so.2"), "test/support/musl/glibc-shim.c"]);
  must([process.execPath, "build.ts", "--target", "linux-x64-musl", "--outfile", join(sysroot, "bin/oauth-sync")]);
}, 600_000);

afterAll(() => {
  Bun.spawnSync(["umount", "-l", join(sysroot, "proc")]);
  rmSync(sysroot, { recursive: true, force: true });
});

describe("the x64 musl build in a musl-only root", () => {
  test("links against musl's loader, and the root holds no glibc", async () => {
    expect(readFileSync(join(sysroot, "bin/oauth-sync")).includes("/lib/ld-musl-x86_64.so.1")).toBe(true);
    expect(existsSync(join(sysroot, "lib/libc.so.6"))).toBe(false);
    expect(existsSync(join(sysroot, "lib64"))).toBe(false);
    const { code, stdout, stderr } = await inRoot(["--version"]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim()).toStartWith(`oauth-sync ${JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version} (`);
    expect(stdout).toContain(", x86_64-linux-musl, musl, bun ");
  }, 120_000);

  test("config check accepts a good config and explains a bad one", async () => {
    // Not in /tmp itself: a config in a directory everyone can write is refused (docs/SECURITY.md).
    mkdirSync(join(sysroot, "etc/oauth-sync"), { recursive: true, mode: 0o700 });
    writeFileSync(join(sysroot, "etc/oauth-sync/good.json"), JSON.stringify({ targets: [{ kind: "env-file", path: "/tmp/.env" }] }));
    writeFileSync(join(sysroot, "etc/oauth-sync/bad.json"), JSON.stringify({ targets: [{ kind: "env-file" }] }));
    const ok = await inRoot(["config", "check", "--config", "/etc/oauth-sync/good.json"]);
    expect(ok.code, ok.output).toBe(0);
    expect(ok.stdout).toContain("ok (1 target(s), gateway none, config ");
    const refused = await inRoot(["config", "check", "--config", "/etc/oauth-sync/bad.json"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain("targets[0].path");
  }, 120_000);

  test("sync: the musl build reads the credentials and writes a target through the link-free path walk", async () => {
    mkdirSync(join(sysroot, "root/.claude"), { recursive: true, mode: 0o700 });
    const token = fakeToken();
    writeFileSync(join(sysroot, "root/.claude/.credentials.json"), credentialsJson(token, Date.now() + 3_600_000), { mode: 0o600 });
    writeFileSync(
      join(sysroot, "etc/oauth-sync/sync.json"),
      JSON.stringify({ credentials: "/root/.claude/.credentials.json", stateDir: "/etc/oauth-sync/state", targets: [{ kind: "env-file", path: "/etc/oauth-sync/out/.env" }] }),
    );
    const result = await inRoot(["sync", "--config", "/etc/oauth-sync/sync.json"]);
    expect(result.code, result.output).toBe(0);
    expect(readFileSync(join(sysroot, "etc/oauth-sync/out/.env"), "utf8")).toContain(token);
    expect(result.output).not.toContain(token);
  }, 120_000);

  // Skipped here, for a reason of this test root only: `watch` gives @parcel/watcher ignore rules (only the
  // directory's own entries, not Claude Code's busy subdirectories), which it compiles with std::regex. Debian has no
  // musl-built libstdc++, so this root runs glibc's behind a shim, and glibc's std::locale reads a glibc-only locale
  // layout: it crashes (checked: the same binary without ignore rules runs the demo here). Alpine's libstdc++ is
  // musl's own. Run it where a musl libstdc++ exists: OAUTH_SYNC_MUSL_LIBSTDCXX=/path/to/libstdc++.so.6.
  const muslLibstdcxx = process.env.OAUTH_SYNC_MUSL_LIBSTDCXX;
  if (!muslLibstdcxx) console.warn("musl demo skipped: no musl-built libstdc++ on this machine (set OAUTH_SYNC_MUSL_LIBSTDCXX)");
  test.skipIf(!muslLibstdcxx)("demo: the embedded musl watcher fires on every rotation", async () => {
    copyFileSync(muslLibstdcxx!, join(sysroot, "usr/lib/libstdc++.so.6"));
    const { code, stdout, output } = await inRoot(["demo", "--rotations", "3"]);
    expect(code, output).toBe(0);
    for (const n of [1, 2, 3]) expect(stdout).toMatch(new RegExp(`rotation ${n}: token [0-9a-f]{12} reached all 3 targets in [\\d.]+ ms`));
    expect(stdout).toContain("syncs run: 4");
    console.log(stdout.match(/median .*/)?.[0]);
  }, 120_000);
});
