/**
 * The arm64 release build, run for real under Debian's qemu-user (qemu-aarch64 with the arm64 glibc and libstdc++
 * from Debian's cross packages as its root): the JIT, the embedded @parcel/watcher addon and inotify, emulated.
 * Installs what it needs with apt-get when it is missing (CI starts from a bare machine).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arm64Argv, ensureArm64Runner } from "../support/arm64.ts";

const root = join(import.meta.dir, "../..");
const EM_AARCH64 = 0xb7;
let dir: string;
let binary: string;

async function qemu(args: string[], wrapper: string[] = []) {
  const proc = Bun.spawn([...wrapper, ...arm64Argv(binary), ...args], {
    env: { PATH: "/usr/bin:/bin", HOME: dir, TMPDIR: dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, output: stdout + stderr };
}

beforeAll(() => {
  ensureArm64Runner();
  dir = mkdtempSync(join(tmpdir(), "oauth-sync-arm64-"));
  binary = join(dir, "oauth-sync-linux-arm64");
  const build = Bun.spawnSync([process.execPath, "build.ts", "--target", "linux-arm64", "--outfile", binary], { cwd: root, stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the arm64 build under qemu-aarch64", () => {
  test("is an aarch64 executable, and prints its version", async () => {
    expect(readFileSync(binary).readUInt16LE(18)).toBe(EM_AARCH64);
    const { code, stdout, stderr } = await qemu(["--version"]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim()).toStartWith(`oauth-sync ${JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version} (`);
    expect(stdout).toContain(", aarch64-linux-gnu, glibc, bun ");
  }, 120_000);

  test("runs on the cross libc alone, whatever the machine has at /lib/ld-linux-aarch64.so.1", async () => {
    // In a private mount namespace (gone when the command ends) that path is a file that is no loader at all.
    const lib = realpathSync("/lib");
    const upper = join(dir, "overlay/upper");
    const work = join(dir, "overlay/work");
    mkdirSync(upper, { recursive: true });
    mkdirSync(work);
    writeFileSync(join(upper, "ld-linux-aarch64.so.1"), "not a loader\n", { mode: 0o755 });
    const hide = `mount --make-rprivate / && mount -t overlay oauth-sync-arm64 -o lowerdir=${lib},upperdir=${upper},workdir=${work} ${lib} && exec "$@"`;
    const { code, stdout, output } = await qemu(["--version"], ["unshare", "--mount", "sh", "-c", hide, "sh"]);
    expect(code, output).toBe(0);
    expect(stdout.trim()).toStartWith(`oauth-sync ${JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version} (`);
  }, 120_000);

  test("config check accepts a good config and explains a bad one", async () => {
    const good = join(dir, "good.json");
    const bad = join(dir, "bad.json");
    writeFileSync(good, JSON.stringify({ targets: [{ kind: "env-file", path: join(dir, ".env") }] }));
    writeFileSync(bad, JSON.stringify({ targets: [{ kind: "env-file" }], watch: { quietMs: -1 } }));
    const ok = await qemu(["config", "check", "--config", good]);
    expect(ok.code, ok.output).toBe(0);
    expect(ok.stdout).toContain("ok (1 target(s), gateway none, config ");
    const refused = await qemu(["config", "check", "--config", bad]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain("targets[0].path");
    expect(refused.stdout).toContain("watch.quietMs");
  }, 120_000);

  test("demo: the embedded watcher fires on every rotation (the next reconcile would be 30 minutes away)", async () => {
    const { code, stdout, output } = await qemu(["demo", "--rotations", "3"]);
    expect(code, output).toBe(0);
    for (const n of [1, 2, 3]) expect(stdout).toMatch(new RegExp(`rotation ${n}: token [0-9a-f]{12} reached all 3 targets in [\\d.]+ ms`));
    // One sync at start, then one per rotation, each started by an inotify event.
    expect(stdout).toContain("syncs run: 4");
    console.log(stdout.match(/median .*/)?.[0]);
  }, 120_000);
});
