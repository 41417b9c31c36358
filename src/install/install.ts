import { chmod, copyFile, lstat, mkdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import type { Config } from "../config/schema.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { logger, print } from "../log/logger.ts";
import { outputTail } from "../process/output.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { makeDirAsOwner } from "../privilege/owned-fs.ts";
import { writablePaths } from "../systemd/paths.ts";
import { renderUnits } from "../systemd/units.ts";
import { VERSION } from "../version.ts";
import type { InstallLayout, Manifest } from "./plan.ts";

export interface InstallDeps {
  run: ProcessRunner;
  /** The running binary, copied into place. */
  execPath: string;
  dryRun: boolean;
}

export type InstallResult = { ok: true; changed: string[]; restarted: string[] } | { ok: false; error: string };

const digest = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");

/** Put the binary, config and units in place; start what is new, restart only what changed. Idempotent. */
export async function install(config: Config, configText: string, layout: InstallLayout, deps: InstallDeps): Promise<InstallResult> {
  const units = renderUnits(config, { binary: layout.binary, configPath: layout.configPath, user: layout.user });
  const systemctl = (...args: string[]) => command([...layout.systemctl, ...args], deps);
  const changed: string[] = [];

  if (await binaryDiffers(deps.execPath, layout.binary)) {
    changed.push(layout.binary);
    if (deps.dryRun) print(`would install ${deps.execPath} → ${layout.binary}`);
    else await copyBinary(deps.execPath, layout.binary);
  }
  const files: Array<[string, string, number]> = [
    [layout.configPath, configText, 0o600],
    ...units.map((u): [string, string, number] => [join(layout.unitDir, u.name), u.content, 0o644]),
  ];
  for (const [path, text] of files) {
    const current = await readFile(path, "utf8").catch(() => undefined);
    if (current === text) continue;
    changed.push(path);
    if (deps.dryRun) print(`would ${current === undefined ? "create" : "replace"} ${path}:\n${text.trimEnd()}\n`);
  }
  // ProtectSystem=strict: the service cannot create a directory outside its ReadWritePaths, nor one of them.
  const missing: string[] = [];
  for (const dir of layout.user ? [] : writablePaths(config)) if (!(await stat(dir).catch(() => undefined))) missing.push(dir);
  if (deps.dryRun) {
    for (const dir of missing) print(`would create the directory ${dir} (0700): the service may write there but not create it`);
    print(`would record what was installed in ${layout.manifest}`);
    for (const line of plannedCommands(layout, changed)) print(`would run: ${line}`);
    return { ok: true, changed, restarted: [] };
  }

  const unitPaths = units.map((u) => join(layout.unitDir, u.name));
  const verify = await verifyUnits(units, deps);
  if (verify) return { ok: false, error: verify };
  for (const dir of missing) {
    await makeDirAsOwner(dir);
    changed.push(dir);
  }
  // An existing config keeps its mode on rewrite: tighten it before webhook URLs and the like go into it.
  await tightenConfig(layout.configPath);
  for (const [path, text, mode] of files) {
    await mkdir(dirname(path), { recursive: true, mode: path === layout.configPath ? 0o700 : 0o755 });
    await writeFileAtomic(path, text, { newFileMode: mode });
  }
  await mkdir(dirname(layout.manifest), { recursive: true, mode: 0o700 });
  const manifest: Manifest = { version: VERSION, binary: layout.binary, configPath: layout.configPath, stateDir: config.stateDir, units: unitPaths, user: layout.user };
  await writeFileAtomic(layout.manifest, `${JSON.stringify(manifest, null, 2)}\n`);

  if (changed.some((p) => unitPaths.includes(p))) {
    const reload = await systemctl("daemon-reload");
    if (reload) return { ok: false, error: reload };
  }
  const wasActive = (await deps.run([...layout.systemctl, "is-active", "oauth-sync.service"], { env: systemctlEnv(), timeoutMs: 30_000 })).stdout.trim() === "active";
  const enable = await systemctl("enable", "--now", "oauth-sync.service", "oauth-sync-check.timer");
  if (enable) return { ok: false, error: enable };

  const restarted: string[] = [];
  const touches = (name: string) => changed.some((p) => p.endsWith(`/${name}`));
  // A directory created now was skipped by the running service's ReadWritePaths (`-`): it needs a restart to write it.
  if (wasActive && (changed.includes(layout.binary) || changed.includes(layout.configPath) || touches("oauth-sync.service") || missing.length)) {
    const restart = await systemctl("restart", "oauth-sync.service");
    if (restart) return { ok: false, error: restart };
    restarted.push("oauth-sync.service");
  }
  if (touches("oauth-sync-check.timer")) {
    const restart = await systemctl("restart", "oauth-sync-check.timer");
    if (restart) return { ok: false, error: restart };
    restarted.push("oauth-sync-check.timer");
  }
  return { ok: true, changed, restarted };
}

function plannedCommands(layout: InstallLayout, changed: string[]): string[] {
  const sc = layout.systemctl.join(" ");
  return [
    "systemd-analyze verify <the units above>",
    ...(changed.some((p) => p.startsWith(layout.unitDir)) ? [`${sc} daemon-reload`] : []),
    `${sc} enable --now oauth-sync.service oauth-sync-check.timer`,
    ...(changed.length ? [`${sc} restart <the units whose files changed, if running>`] : []),
  ];
}

export async function binaryDiffers(source: string, target: string): Promise<boolean> {
  if (source === target) return false;
  const [a, b] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
  if (!b || a.size !== b.size) return true;
  return (await digest(source)) !== (await digest(target));
}

async function tightenConfig(path: string) {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile() || (info.mode & 0o077) === 0) return;
  await chmod(path, 0o600);
  logger.info(`${path} was readable or writable by others (${(info.mode & 0o777).toString(8)}): now 0600`);
}

/** Temp file + rename: a running service keeps its old inode, so an upgrade over it is safe. */
export async function copyBinary(source: string, target: string) {
  await mkdir(dirname(target), { recursive: true, mode: 0o755 });
  const temp = join(dirname(target), `.oauth-sync.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await copyFile(source, temp);
    await chmod(temp, 0o755);
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  logger.info(`installed ${target}`);
}

/** Check the units as they will be written, before systemd sees them. */
async function verifyUnits(units: { name: string; content: string }[], deps: InstallDeps): Promise<string | undefined> {
  const dir = join("/tmp", `oauth-sync-units-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    for (const unit of units) await writeFileAtomic(join(dir, unit.name), unit.content, { newFileMode: 0o644 });
    const result = await deps.run(["systemd-analyze", "verify", ...units.map((u) => join(dir, u.name))], { env: minimalEnv(), timeoutMs: 60_000 });
    if (result.spawnError) return `systemd-analyze not found: is this a systemd machine? (${result.spawnError})`;
    // A warning is a failure too: a unit that systemd reads differently from what we wrote must not be installed.
    const ours = (result.stderr + result.stdout).split("\n").filter((line) => line.includes(dir) || /oauth-sync/.test(line));
    if (result.code !== 0 || ours.length > 0) return `the generated units do not verify:\n${(ours.join("\n") || result.stderr + result.stdout).trim()}`;
  } finally {
    await Bun.$`rm -rf ${dir}`.quiet().nothrow();
  }
  return undefined;
}

/** `systemctl --user` finds the user's manager through XDG_RUNTIME_DIR. */
export function systemctlEnv(): Record<string, string> {
  return minimalEnv(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {});
}

export async function command(argv: string[], deps: Pick<InstallDeps, "run">): Promise<string | undefined> {
  const result = await deps.run(argv, { env: systemctlEnv(), timeoutMs: 120_000 });
  if (result.spawnError) return `${argv[0]}: ${result.spawnError}`;
  if (result.code !== 0) return `${argv.join(" ")} failed: ${outputTail(result.stderr || result.stdout)}`;
  return undefined;
}
