/**
 * Compiles oauth-sync into one self-contained binary.
 *   bun build.ts          → dist/oauth-sync for this machine
 *   bun build.ts --all    → dist/release/oauth-sync-linux-{x64,arm64}[-musl], each also as .tar.xz (holding one file,
 *                           `oauth-sync`), and SHA256SUMS over all of them
 *   bun build.ts --target linux-arm64 --outfile PATH   → one release target's binary (e.g. to run under qemu)
 *   bun build.ts --outfile PATH   → the host binary elsewhere
 * Baked into each binary (src/version.ts `BUILD`, printed by `--version`): the version (package.json, or
 * OAUTH_SYNC_VERSION), the commit and its date (from git, or OAUTH_SYNC_COMMIT / OAUTH_SYNC_DATE; "unknown" outside a
 * checkout), the target triple and libc, and the Bun version.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { BunPlugin } from "bun";
import type { Build } from "./src/version.ts";

interface Release {
  name: string;
  /** The target triple `--version` reports. */
  triple: string;
  bunTarget: Bun.Build.CompileTarget;
  /** The @parcel/watcher prebuild package whose watcher.node gets embedded. */
  watcherPackage: string;
}

const RELEASES: Release[] = [
  { name: "linux-x64", triple: "x86_64-linux-gnu", bunTarget: "bun-linux-x64", watcherPackage: "@parcel/watcher-linux-x64-glibc" },
  { name: "linux-arm64", triple: "aarch64-linux-gnu", bunTarget: "bun-linux-arm64", watcherPackage: "@parcel/watcher-linux-arm64-glibc" },
  { name: "linux-x64-musl", triple: "x86_64-linux-musl", bunTarget: "bun-linux-x64-musl", watcherPackage: "@parcel/watcher-linux-x64-musl" },
  { name: "linux-arm64-musl", triple: "aarch64-linux-musl", bunTarget: "bun-linux-arm64-musl", watcherPackage: "@parcel/watcher-linux-arm64-musl" },
];

const root = import.meta.dir;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const watcherVersion: string = JSON.parse(readFileSync(join(root, "node_modules/@parcel/watcher/package.json"), "utf8")).version;

function hostRelease(): Release {
  // The libc this bun itself links against: its ELF interpreter path names it. (A musl loader lying around on a glibc
  // system, e.g. Debian's musl package, says nothing.)
  const head = Buffer.alloc(4096);
  const fd = openSync(process.execPath, "r");
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const musl = head.includes("ld-musl");
  const name = `linux-${process.arch}${musl ? "-musl" : ""}`;
  const release = RELEASES.find((r) => r.name === name);
  if (!release || process.platform !== "linux") throw new Error(`no release target for ${process.platform}-${process.arch}`);
  return release;
}

/** The installed prebuild, or one fetched from the npm registry into .cache/ for a cross build. */
async function watcherAddon(packageName: string): Promise<string> {
  const installed = join(root, "node_modules", packageName, "watcher.node");
  if (existsSync(installed)) return installed;
  const dir = join(root, ".cache/prebuilds", `${packageName.replace("/", "+")}@${watcherVersion}`);
  const addon = join(dir, "package/watcher.node");
  if (existsSync(addon)) return addon;
  mkdirSync(dir, { recursive: true });
  const pack = Bun.spawnSync(["npm", "pack", `${packageName}@${watcherVersion}`, "--silent", "--pack-destination", dir], { stderr: "inherit" });
  const tarball = pack.stdout.toString().trim().split("\n").at(-1);
  if (pack.exitCode !== 0 || !tarball) throw new Error(`npm pack ${packageName}@${watcherVersion} failed`);
  const untar = Bun.spawnSync(["tar", "-xzf", join(dir, tarball), "-C", dir], { stderr: "inherit" });
  if (untar.exitCode !== 0 || !existsSync(addon)) throw new Error(`could not unpack ${tarball}`);
  return addon;
}

/** src/watch/native.ts names the x64-glibc addon literally; point that import at the target's own. */
function watcherPlugin(addon: string): BunPlugin {
  return {
    name: "parcel-watcher-prebuild",
    setup(build) {
      build.onResolve({ filter: /^@parcel\/watcher-linux-[a-z0-9-]+\/watcher\.node$/ }, () => ({ path: addon }));
    },
  };
}

async function compile(release: Release, outfile: string): Promise<void> {
  const started = performance.now();
  const result = await Bun.build({
    entrypoints: [join(root, "src/main.ts")],
    compile: { target: release.bunTarget, outfile, autoloadDotenv: false, autoloadBunfig: false, execArgv: ["--smol"] },
    minify: true,
    bytecode: true,
    sourcemap: "none",
    define: { __OAUTH_SYNC_BUILD__: JSON.stringify(buildInfo(release)) },
    plugins: [watcherPlugin(await watcherAddon(release.watcherPackage))],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build for ${release.name} failed`);
  }
  console.error(`built ${outfile} (${release.name}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * `oauth-sync-<target>.tar.xz` holding the binary as `oauth-sync` (0755, owner root, mtime 0: the same bytes for the
 * same binary). xz -6 (default): about a third of the raw size, ~45 s a target on one core; -9e saves another 3 % for
 * half again the time. XZ_OPT overrides the level (the tests use -0: same format, a few seconds).
 */
async function archive(dir: string, file: string): Promise<string> {
  const started = performance.now();
  const name = `${file}.tar.xz`;
  const tar = ["tar", "-C", dir, "--transform", `s|^${file}$|oauth-sync|`, "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--mode=0755", "-cf", "-", file];
  const proc = Bun.spawn(["sh", "-c", `${tar.map((a) => `'${a}'`).join(" ")} | xz -T1 > '${join(dir, name)}'`], {
    env: { ...process.env, XZ_OPT: process.env.XZ_OPT || "-6" },
    stderr: "inherit",
  });
  if ((await proc.exited) !== 0) throw new Error(`could not write ${name}`);
  console.error(`packed ${name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return name;
}

/** The commit and its date, from git or the environment (a release built from an exported tree sets both). */
function gitFacts(): { commit: string; date: string } {
  const git = (...args: string[]) => {
    const proc = Bun.spawnSync(["git", "-C", root, ...args], { stderr: "ignore" });
    return proc.exitCode === 0 ? proc.stdout.toString().trim() : undefined;
  };
  const head = git("rev-parse", "--short=12", "HEAD");
  const dirty = head !== undefined && Boolean(git("status", "--porcelain", "--untracked-files=no"));
  return {
    commit: process.env.OAUTH_SYNC_COMMIT || (head ? `${head}${dirty ? "-dirty" : ""}` : "unknown"),
    date: process.env.OAUTH_SYNC_DATE || git("show", "-s", "--format=%cI", "HEAD") || "unknown",
  };
}

const facts = gitFacts();

function buildInfo(release: Release): Build {
  return {
    version: process.env.OAUTH_SYNC_VERSION || pkg.version,
    ...facts,
    target: release.triple,
    libc: release.name.endsWith("-musl") ? "musl" : "glibc",
    bun: Bun.version,
  };
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};

if (process.argv.includes("--all")) {
  const outDir = join(root, "dist/release");
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const release of RELEASES) {
    files.push(`oauth-sync-${release.name}`);
    await compile(release, join(outDir, files.at(-1)!));
  }
  // The archives in parallel: xz is the slow part (~45 s a target on one core).
  const archives = await Promise.all(files.map((file) => archive(outDir, file)));
  const sums = [...files, ...archives].map((file) => `${sha256(join(outDir, file))}  ${file}`);
  writeFileSync(join(outDir, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.error(`wrote ${resolve(outDir, "SHA256SUMS")}`);
} else {
  const named = flag("--target");
  const release = named ? RELEASES.find((r) => r.name === named) : hostRelease();
  if (!release) throw new Error(`unknown --target ${named} (one of ${RELEASES.map((r) => r.name).join(", ")})`);
  const outfile = flag("--outfile") ? resolve(flag("--outfile")!) : join(root, "dist/oauth-sync");
  mkdirSync(dirname(outfile), { recursive: true });
  await compile(release, outfile);
}
