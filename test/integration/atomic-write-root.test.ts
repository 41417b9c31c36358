/**
 * writeFileAtomic where it takes root: a file another user owns keeps its owner, links root owns are followed, and
 * full, read-only and bind-mounted file systems (tmpfs and bind mounts, each unmounted after its test even when it
 * failed) and `chattr +i` fail cleanly. The rest is in test/unit/atomic-write.test.ts.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmod, chown, lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../src/fs/atomic-write.ts";
import { describeFsError } from "../../src/fs/errors.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

let dir: string;
const mounts: string[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("these cases need root (chown, mount, chattr, links root owns): run them as root");
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "oauth-sync-atomic-"));
});

afterEach(async () => {
  // Unmount whatever a test mounted, even when it failed half-way, then remove the temp dir.
  while (mounts.length > 0) {
    const point = mounts.pop()!;
    const result = spawnSync("umount", [point], { encoding: "utf8" });
    if (result.status !== 0) spawnSync("umount", ["-l", point]);
  }
  spawnSync("chattr", ["-R", "-i", dir], { stdio: "ignore" }); // a test that failed half-way may have left one immutable
  await rm(dir, { recursive: true, force: true });
});

/** Runs mount(8); a failure throws with mount's own reason, so the test fails loudly instead of passing silently. */
function mount(args: string[], point: string) {
  const result = spawnSync("mount", [...args, point], { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    const why = result.error ? String(result.error) : `exit ${result.status}: ${result.stderr.trim()}`;
    throw new Error(`cannot run \`mount ${[...args, point].join(" ")}\` (this test needs root and mount(2)): ${why}`);
  }
  if (!mounts.includes(point)) mounts.push(point);
}

async function tmpfs(name: string, size: string): Promise<string> {
  const point = join(dir, name);
  await mkdir(point);
  mount(["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs"], point);
  return point;
}

const mode = async (path: string) => (await stat(path)).mode & 0o7777;
const entries = async (path: string) => (await readdir(path)).sort();
const content = () => `{"token":"${fakeToken()}"}\n`;

describe("writeFileAtomic as root", () => {
  test("an existing file keeps its mode, owner and group", async () => {
    const path = join(dir, "auth.json");
    await writeFile(path, content());
    await chown(path, 65534, 65534);
    await chmod(path, 0o640);
    const data = content();
    expect(await writeFileAtomic(path, data)).toBe("written");
    const after = await stat(path);
    expect(await readFile(path, "utf8")).toBe(data);
    expect(after.mode & 0o7777).toBe(0o640);
    expect(after.uid).toBe(65534);
    expect(after.gid).toBe(65534);
  });

  test("writing through a symlink keeps the link and updates its target", async () => {
    const real = join(dir, "real");
    await mkdir(real);
    const target = join(real, "auth.json");
    await writeFile(target, content());
    await chmod(target, 0o640);
    const link = join(dir, "link.json");
    await symlink("real/auth.json", link);
    const data = content();
    expect(await writeFileAtomic(link, data)).toBe("written");
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe("real/auth.json");
    expect(await readFile(target, "utf8")).toBe(data);
    expect(await mode(target)).toBe(0o640);
    expect(await entries(dir)).toEqual(["link.json", "real"]);
    expect(await entries(real)).toEqual(["auth.json"]);
  });

  test("writing through a dangling symlink keeps the link and creates the file it points at", async () => {
    const link = join(dir, "link.json");
    await symlink("real/auth.json", link);
    const data = content();
    expect(await writeFileAtomic(link, data)).toBe("written");
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, "real/auth.json"), "utf8")).toBe(data);
    expect(await mode(join(dir, "real/auth.json"))).toBe(0o600);
  });

  test("ENOSPC: rejects with ENOSPC, the old file stays whole and no temp file is left", async () => {
    const point = await tmpfs("small", "64k");
    const path = join(point, "auth.json");
    const old = content();
    await writeFile(path, old);
    // Fill the filesystem to the last byte.
    const filler = await open(join(point, "filler"), "w");
    try {
      const chunk = Buffer.alloc(4096, 1);
      for (;;) {
        const { bytesWritten } = await filler.write(chunk);
        if (bytesWritten < chunk.length) break;
      }
    } catch (error) {
      expect((error as { code?: string }).code).toBe("ENOSPC");
    } finally {
      await filler.close();
    }
    const written = writeFileAtomic(path, content() + "x".repeat(8192));
    await expect(written).rejects.toMatchObject({ code: "ENOSPC" });
    expect(await readFile(path, "utf8")).toBe(old);
    expect(await entries(point)).toEqual(["auth.json", "filler"]);
  });

  test("read-only filesystem: rejects with EROFS and the file stays whole (atomic)", async () => {
    const point = await tmpfs("ro", "1m");
    const path = join(point, "auth.json");
    const old = content();
    await writeFile(path, old);
    mount(["-o", "remount,ro"], point);
    await expect(writeFileAtomic(path, content())).rejects.toMatchObject({ code: "EROFS" });
    expect(await readFile(path, "utf8")).toBe(old);
    expect(await entries(point)).toEqual(["auth.json"]);
  });

  test("read-only filesystem: rejects with EROFS and the file stays whole (in-place)", async () => {
    const point = await tmpfs("ro", "1m");
    const path = join(point, ".env");
    const old = content();
    await writeFile(path, old);
    mount(["-o", "remount,ro"], point);
    await expect(writeFileAtomic(path, content(), { mode: "in-place" })).rejects.toMatchObject({ code: "EROFS" });
    expect(await readFile(path, "utf8")).toBe(old);
  });

  test("a file bind-mounted on its own: atomic fails with EBUSY (file intact, no temp file), in-place writes through", async () => {
    const host = join(dir, "host");
    const container = join(dir, "container");
    await mkdir(host);
    await mkdir(container);
    const old = content();
    await writeFile(join(host, ".env"), old);
    await writeFile(join(container, ".env"), "");
    mount(["--bind", join(host, ".env")], join(container, ".env"));
    const path = join(container, ".env");
    const failure = await writeFileAtomic(path, content()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: "EBUSY" });
    expect(describeFsError("write", path, failure)).toContain('"write": "in-place"');
    expect(await readFile(join(host, ".env"), "utf8")).toBe(old);
    expect(await entries(container)).toEqual([".env"]);
    const data = content();
    expect(await writeFileAtomic(path, data, { mode: "in-place" })).toBe("written");
    expect(await readFile(join(host, ".env"), "utf8")).toBe(data);
  });

  test("a temp file whose rename and removal both failed (the directory turned immutable in between) goes at the next write there", async () => {
    // A real race, as the soak (bench/soak.ts, immutable-state fault) met it: another process flips `chattr +i` on
    // the directory while we write. A write that created its temp file before the flip cannot rename it, nor remove
    // it; before the fix such temp files stayed until the service restarted (thousands in a second here).
    const place = join(dir, "state");
    await mkdir(place);
    const path = join(place, "state.json");
    // Stopped by a file, after a whole +i/-i pair: a kill could land while a `chattr +i` ran on, and leave the
    // directory immutable after the test's own `chattr -i` (CI once failed so, and could not remove it).
    const stop = join(dir, "stop");
    const flipper = Bun.spawn(["sh", "-c", 'while [ ! -e "$2" ]; do chattr +i "$1" && chattr -i "$1" || exit 1; done', "flip", place, stop], { stderr: "pipe" });
    let failures = 0;
    try {
      const until = Date.now() + 1000;
      for (let i = 0; Date.now() < until && flipper.exitCode === null; i++) {
        await writeFileAtomic(path, `{"n":${i}}`).catch(() => failures++);
        await Bun.sleep(0);
      }
      expect(flipper.exitCode).toBeNull(); // chattr works here (it needs root and a filesystem with attributes)
    } finally {
      await writeFile(stop, "");
      await flipper.exited;
      spawnSync("chattr", ["-i", place]);
    }
    expect(failures).toBeGreaterThan(0);
    expect(await writeFileAtomic(path, '{"n":"last"}')).toBe("written");
    expect(await entries(place)).toEqual(["state.json"]);
  });
});
