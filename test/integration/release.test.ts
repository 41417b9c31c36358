import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arm64Argv, ensureArm64Runner } from "../support/arm64.ts";
import { codeBlocks } from "../support/markdown.ts";

const root = join(import.meta.dir, "../..");
const ELF_MACHINE = { x64: 0x3e, arm64: 0xb7 } as const;

/** ELF e_machine and the program interpreter (PT_INTERP) of a 64-bit little-endian executable. */
function elfFacts(file: string) {
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  const machine = bytes.readUInt16LE(18);
  const phoff = Number(bytes.readBigUInt64LE(32));
  const phentsize = bytes.readUInt16LE(54);
  const phnum = bytes.readUInt16LE(56);
  let interpreter = "";
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (bytes.readUInt32LE(at) !== 3) continue; // PT_INTERP
    const offset = Number(bytes.readBigUInt64LE(at + 8));
    const size = Number(bytes.readBigUInt64LE(at + 32));
    interpreter = bytes.subarray(offset, offset + size - 1).toString("latin1");
  }
  return { machine, interpreter, bytes };
}

const ADDONS = ["x64-glibc", "arm64-glibc", "x64-musl", "arm64-musl"];

/** A slice of a prebuild's code, distinctive enough to find it inside a binary. */
function addonSample(name: string): Buffer {
  const pkg = `@parcel/watcher-linux-${name}`;
  const version = JSON.parse(readFileSync(join(root, "node_modules/@parcel/watcher/package.json"), "utf8")).version;
  const candidates = [join(root, "node_modules", pkg, "watcher.node"), join(root, ".cache/prebuilds", `${pkg.replace("/", "+")}@${version}`, "package/watcher.node")];
  const file = candidates.find((path) => existsSync(path));
  if (!file) throw new Error(`no prebuild of ${pkg} found (build.ts --all fetches it)`);
  const addon = readFileSync(file);
  return addon.subarray(addon.length / 2, addon.length / 2 + 4096);
}

const dir = join(root, "dist/release");

function sums(): Array<{ hash: string; name: string }> {
  return readFileSync(join(dir, "SHA256SUMS"), "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [hash, name] = line.split(/\s+/) as [string, string];
      return { hash, name };
    });
}

describe("bun build.ts --all", () => {
  beforeAll(() => {
    // XZ_OPT=-0: the release's archive format in seconds instead of minutes (the release itself packs with xz -6).
    const build = Bun.spawnSync([process.execPath, "build.ts", "--all"], { cwd: root, stderr: "pipe", env: { ...process.env, XZ_OPT: "-0" } });
    if (build.exitCode !== 0) throw new Error(`build.ts --all failed: ${build.stderr.toString()}`);
  }, 600_000);

  test("builds linux x64/arm64, glibc/musl, each with its own watcher addon, and a SHA256SUMS that matches", async () => {
    const binaries = sums().filter((s) => !s.name.endsWith(".tar.xz"));
    expect(binaries).toHaveLength(4);
    for (const { hash, name } of binaries) {
      const [, arch, musl] = /^oauth-sync-linux-(x64|arm64)(-musl)?$/.exec(name) ?? [];
      expect(arch).toBeDefined();
      const { machine, interpreter, bytes } = elfFacts(join(dir, name));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(hash);
      expect(machine).toBe(ELF_MACHINE[arch as "x64" | "arm64"]);
      expect(interpreter).toContain(musl ? "ld-musl" : "ld-linux");
      // The watcher addon embedded is this target's prebuild, not the build machine's.
      for (const other of ADDONS) {
        const embedded = bytes.indexOf(addonSample(other)) >= 0;
        expect(embedded).toBe(other === `${arch}-${musl ? "musl" : "glibc"}`);
      }
    }
    // The host's own build runs.
    const host = Bun.spawnSync([join(dir, "oauth-sync-linux-x64"), "--version"]);
    expect(host.stdout.toString().trim()).toMatch(/^oauth-sync \d+\.\d+\.\d+ \(commit .*, x86_64-linux-gnu, glibc, bun /);
  }, 60_000);

  test("each binary also ships as a smaller .tar.xz holding only `oauth-sync`, the same bytes, executable; all in SHA256SUMS", () => {
    const listed = sums();
    const archives = listed.filter((s) => s.name.endsWith(".tar.xz"));
    expect(archives.map((a) => a.name.replace(/\.tar\.xz$/, "")).sort()).toEqual(listed.filter((s) => !s.name.endsWith(".tar.xz")).map((s) => s.name).sort());
    const out = mkdtempSync(join(tmpdir(), "oauth-sync-archive-"));
    try {
      for (const { hash, name } of archives) {
        const bytes = readFileSync(join(dir, name));
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(hash);
        const list = Bun.spawnSync(["tar", "-tvJf", join(dir, name)]).stdout.toString().trim().split("\n");
        expect(list).toHaveLength(1);
        expect(list[0]).toMatch(/^-rwxr-xr-x 0\/0 .* oauth-sync$/);
        expect(Bun.spawnSync(["tar", "-xJf", join(dir, name), "-C", out]).exitCode).toBe(0);
        const raw = name.replace(/\.tar\.xz$/, "");
        expect(readFileSync(join(out, "oauth-sync")).equals(readFileSync(join(dir, raw)))).toBe(true);
        expect(bytes.length).toBeLessThan(statSync(join(dir, raw)).size / 2);
        console.log(`${raw}: ${(statSync(join(dir, raw)).size / 1e6).toFixed(1)} MB raw, ${(bytes.length / 1e6).toFixed(1)} MB .tar.xz at XZ_OPT=-0`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  test("README's install block picks this machine's archive (x64, arm64 under qemu, musl), checks it against SHA256SUMS, refuses a tampered one and an unknown machine", async () => {
    const block = codeBlocks("README.md").find((b) => b.info.includes("oauth-sync-install"));
    expect(block).toBeDefined();
    const base = "https://github.com/oauth-sync/oauth-sync/releases/latest/download";
    expect(block!.text).toContain(base);
    expect(block!.text).toContain("sudo ./oauth-sync install");
    ensureArm64Runner();
    // The release page served from dist/release (or with one byte of an archive changed); what was asked for is kept.
    let tamper = false;
    const asked: string[] = [];
    const server = Bun.serve({
      port: 0,
      async fetch(request) {
        const name = new URL(request.url).pathname.split("/").pop()!;
        asked.push(name);
        const file = Bun.file(join(dir, name));
        if (!(await file.exists())) return new Response("not found", { status: 404 });
        if (!tamper || !name.endsWith(".tar.xz")) return new Response(file);
        const bytes = new Uint8Array(await file.arrayBuffer());
        bytes[bytes.length >> 1]! ^= 1;
        return new Response(bytes);
      },
    });
    // The machine as the block sees it: `uname -m` and `ldd --version` answered by stand-ins first on PATH; the last
    // step (`sudo ./oauth-sync install`) becomes `--version` of what was unpacked, run the way this host can.
    const runBlock = async (machine: { arch: string; libc: "glibc" | "musl"; runner: string }) => {
      const cwd = mkdtempSync(join(tmpdir(), "oauth-sync-quickstart-"));
      const shims = join(cwd, ".bin");
      mkdirSync(shims);
      writeFileSync(join(shims, "uname"), `#!/bin/sh\n[ "$1" = -m ] && echo ${machine.arch} || exec /bin/uname "$@"\n`, { mode: 0o755 });
      const ldd = machine.libc === "musl" ? 'echo "musl libc (x86_64)" >&2; exit 1' : 'echo "ldd (Debian GLIBC 2.36-9+deb12u10) 2.36"';
      writeFileSync(join(shims, "ldd"), `#!/bin/sh\n${ldd}\n`, { mode: 0o755 });
      const script = block!.text.replaceAll(base, `http://127.0.0.1:${server.port}`).replace("sudo ./oauth-sync install", `${machine.runner} --version`);
      asked.length = 0;
      // Not spawnSync: the server above answers on this event loop.
      const proc = Bun.spawn(["sh", "-c", script], { cwd, stdout: "pipe", stderr: "pipe", env: { PATH: `${shims}:/usr/bin:/bin`, HOME: cwd } });
      const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { stdout, stderr, exitCode, unpacked: existsSync(join(cwd, "oauth-sync")), asked: [...asked], cwd };
    };
    const dirs: string[] = [];
    try {
      const x64 = await runBlock({ arch: "x86_64", libc: "glibc", runner: "./oauth-sync" });
      dirs.push(x64.cwd);
      expect(x64.exitCode, x64.stderr).toBe(0);
      expect(x64.asked).toEqual(["oauth-sync-linux-x64.tar.xz", "SHA256SUMS"]);
      expect(x64.stdout).toMatch(/oauth-sync-linux-x64\.tar\.xz: OK\noauth-sync \d+\.\d+\.\d+ .*x86_64-linux-gnu/);

      const arm = await runBlock({ arch: "aarch64", libc: "glibc", runner: arm64Argv("./oauth-sync").join(" ") });
      dirs.push(arm.cwd);
      expect(arm.exitCode, arm.stderr).toBe(0);
      expect(arm.asked).toEqual(["oauth-sync-linux-arm64.tar.xz", "SHA256SUMS"]);
      expect(arm.stdout).toMatch(/oauth-sync-linux-arm64\.tar\.xz: OK\noauth-sync \d+\.\d+\.\d+ .*aarch64-linux-gnu/);

      // Alpine: the musl build is chosen (running it needs musl's libstdc++, which test/integration/musl.test.ts covers).
      const musl = await runBlock({ arch: "x86_64", libc: "musl", runner: "true" });
      dirs.push(musl.cwd);
      expect(musl.exitCode, musl.stderr).toBe(0);
      expect(musl.asked).toEqual(["oauth-sync-linux-x64-musl.tar.xz", "SHA256SUMS"]);
      expect(musl.stdout).toContain("oauth-sync-linux-x64-musl.tar.xz: OK");

      const riscv = await runBlock({ arch: "riscv64", libc: "glibc", runner: "./oauth-sync" });
      dirs.push(riscv.cwd);
      expect(riscv.exitCode).not.toBe(0);
      expect(riscv.stderr).toContain("no oauth-sync build for riscv64");
      expect(riscv.asked).toEqual([]);

      tamper = true;
      const refused = await runBlock({ arch: "x86_64", libc: "glibc", runner: "./oauth-sync" });
      dirs.push(refused.cwd);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stdout + refused.stderr).toContain("FAILED");
      expect(refused.unpacked).toBe(false);
    } finally {
      await server.stop(true);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }, 120_000);
});
