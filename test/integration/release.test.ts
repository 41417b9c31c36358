import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

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

describe("bun build.ts --all", () => {
  test("builds linux x64/arm64, glibc/musl, each with its own watcher addon, and a SHA256SUMS that matches", async () => {
    const build = Bun.spawnSync([process.execPath, "build.ts", "--all"], { cwd: root, stderr: "pipe" });
    expect(build.exitCode, build.stderr.toString()).toBe(0);
    const dir = join(root, "dist/release");
    const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(sums).toHaveLength(4);
    for (const line of sums) {
      const [hash, name] = line.split(/\s+/) as [string, string];
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
    expect(host.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+/);
  }, 600_000);
});
