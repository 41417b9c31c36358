import { closeSync, constants, mkdtempSync, openSync, readSync, rmdirSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import type { Config } from "../config/schema.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { closeFound, findFile, MAX_BYTES, readRegularFile } from "../fs/open-file.ts";
import { decideChain, describeActor, placeOf, selfUid } from "../fs/place.ts";
import { O_CLOEXEC, O_NONBLOCK, PathError } from "../fs/walk.ts";
import { logger, print } from "../log/logger.ts";
import { outputTail } from "../process/output.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { makeDirAsOwner, removeFileHere } from "../privilege/owned-fs.ts";
import { writablePaths } from "../systemd/paths.ts";
import { renderUnits } from "../systemd/units.ts";
import { ensureDir, installFile, ownerOf, tightenFile } from "./no-follow.ts";
import type { InstallLayout, Manifest } from "./plan.ts";

export interface InstallDeps {
  run: ProcessRunner;
  /** The running binary, copied into place. */
  execPath: string;
  dryRun: boolean;
}

export type InstallResult = { ok: true; changed: string[]; restarted: string[] } | { ok: false; error: string };

/** The largest binary install compares or copies (today's is about 113 MB). */
const MAX_BINARY = 512 * 1024 * 1024;

/**
 * Put the binary, config and units in place; start what is new, restart only what changed. Idempotent. Every place
 * was checked to be this process's own before (`placesProblem`); each write here goes through the no-follow walk.
 */
export async function install(config: Config, configText: string, layout: InstallLayout, deps: InstallDeps, record: Omit<Manifest, "binary" | "configPath" | "stateDir" | "units" | "user">): Promise<InstallResult> {
  const units = renderUnits(config, { binary: layout.binary, configPath: layout.configPath, user: layout.user });
  const systemctl = (...args: string[]) => command([...layout.systemctl, ...args], deps);
  const changed: string[] = [];
  const source = binarySource(deps.execPath);

  if (await binaryDiffers(source, layout.binary)) {
    changed.push(layout.binary);
    if (deps.dryRun) print(`would install ${deps.execPath} → ${layout.binary}`);
    else await installBinary(source, dirname(layout.binary), [selfUid()]);
  }
  const files: Array<[string, string, number]> = [
    [layout.configPath, configText, 0o600],
    ...units.map((u): [string, string, number] => [join(layout.unitDir, u.name), u.content, 0o644]),
  ];
  for (const [path, text] of files) {
    const current = readRegularFile(path, MAX_BYTES.config);
    if (!current.ok && current.code !== "ENOENT") return { ok: false, error: current.message };
    if (current.ok && current.text === text) continue;
    changed.push(path);
    if (deps.dryRun) print(`would ${current.ok ? "replace" : "create"} ${path}:\n${text.trimEnd()}\n`);
  }
  // ProtectSystem=strict: the service cannot create a directory outside its ReadWritePaths, nor one of them.
  const missing: string[] = [];
  for (const dir of layout.user ? [] : writablePaths(config)) if (!placeExists(dir)) missing.push(dir);
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
  // An existing config keeps its mode on rewrite: tightened first (through its own descriptor), before webhook URLs
  // and the like go into it.
  const old = tightenFile(layout.configPath, 0o600);
  if (old !== undefined) logger.info(`${layout.configPath} was readable or writable by others (${old.toString(8)}): now 0600`);
  closeSync(ensureDir(dirname(layout.configPath), 0o700).fd);
  closeSync(ensureDir(layout.unitDir, 0o755).fd);
  for (const [path, text, mode] of files) await writeFileAtomic(path, text, { newFileMode: mode });
  closeSync(ensureDir(dirname(layout.manifest), 0o700).fd);
  const manifest: Manifest = { ...record, binary: layout.binary, configPath: layout.configPath, stateDir: config.stateDir, units: unitPaths, user: layout.user };
  await writeFileAtomic(layout.manifest, `${JSON.stringify(manifest, null, 2)}\n`, { newFileMode: 0o600 });

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

/** Whether a directory is there (deciding only whether to create it: makeDirAsOwner walks it without links). */
const placeExists = (dir: string) => Boolean(statSync(dir, { throwIfNoEntry: false }));

function plannedCommands(layout: InstallLayout, changed: string[]): string[] {
  const sc = layout.systemctl.join(" ");
  return [
    "systemd-analyze verify <the units above>",
    ...(changed.some((p) => p.startsWith(layout.unitDir)) ? [`${sc} daemon-reload`] : []),
    `${sc} enable --now oauth-sync.service oauth-sync-check.timer`,
    ...(changed.length ? [`${sc} restart <the units whose files changed, if running>`] : []),
  ];
}

/**
 * Pure-ish: who may not be asked to trust each place install writes, before anything is written: the config (it
 * steers a root service), the binary's directory (the units run what is there), the units' and the manifest's
 * directories must each be this process's own place. A directory another user owns is refused with what to do.
 */
export function placesProblem(layout: InstallLayout): string | undefined {
  const checks: Array<[string, string]> = [
    [layout.configPath, "--config-path"],
    [layout.binary, "--bin-dir"],
    [join(layout.unitDir, "oauth-sync.service"), "the unit directory"],
    [layout.manifest, "the manifest"],
  ];
  for (const [path, what] of checks) {
    const place = placeOf(path);
    if (!place.ok) return `${what} ${dirname(path)}: ${place.message}`;
    if (place.actor.uid !== selfUid()) {
      return `${what} ${dirname(path)} belongs to ${describeActor(place.actor)}: ${layout.user ? "a --user install writes only where its user owns the place" : "the units run as root what is there and read their config from it, so only a place root alone owns will do"}; choose another path`;
    }
  }
  return undefined;
}

/** The running binary itself (its path may have been replaced since it started): /proc/self/exe when it is us. */
export function binarySource(execPath: string): string {
  return execPath === process.execPath ? "/proc/self/exe" : execPath;
}

/**
 * Puts the binary into `binDir` as `oauth-sync`, where the place belongs to one of `owners`: made inside the opened
 * directory, owned by that place's owner, 0755. Missing directories are made as that owner. Anything else is refused
 * before it is touched.
 */
export async function installBinary(source: string, binDir: string, owners: number[]): Promise<void> {
  const place = placeOf(join(binDir, "oauth-sync"));
  if (!place.ok) throw new PathError(`${binDir}: ${place.message}`, "EUNSAFE");
  if (!owners.includes(place.actor.uid)) throw new PathError(`${binDir} belongs to ${describeActor(place.actor)}: refused (the binary goes where root${owners.some((u) => u !== 0) ? " or its login" : ""} alone can write)`, "EOWNER");
  if (place.actor.uid !== selfUid()) await makeDirAsOwner(binDir);
  const dir = ensureDir(binDir, 0o755, (chain, path) => {
    const decision = decideChain(chain);
    if (!decision.ok || !owners.includes(decision.actor.uid)) throw new PathError(`${path}: ${decision.ok ? `belongs to ${describeActor(decision.actor)}` : decision.message}`, "EUNSAFE");
  });
  try {
    const owner = ownerOf(dir);
    if (!owner.ok) throw new PathError(owner.message, "EUNSAFE");
    if (!owners.includes(owner.uid)) throw new PathError(`${dir.path} belongs to ${owner.who}: refused`, "EOWNER");
    installFile(source, dir, "oauth-sync", 0o755, owner.uid === selfUid() ? undefined : { uid: owner.uid, gid: owner.gid });
  } finally {
    closeSync(dir.fd);
  }
  logger.info(`installed ${join(binDir, "oauth-sync")}`);
}

/** Whether `target` holds other bytes than `source`: compared through descriptors (a FIFO there is refused, never read). */
export async function binaryDiffers(source: string, target: string): Promise<boolean> {
  if (source === target) return false;
  const theirs = digestOf(target);
  if (theirs === undefined) return true;
  return digestOf(source) !== theirs;
}

function digestOf(path: string): string | undefined {
  let fd: number;
  if (path.startsWith("/proc/self/")) fd = openSync(path, constants.O_RDONLY | O_CLOEXEC);
  else {
    let found;
    try {
      found = findFile(path);
    } catch (error) {
      if ((error as PathError).code === "EFTYPE") throw error;
      return undefined;
    }
    try {
      if (found.fd === undefined) return undefined;
      if ((found.info?.size ?? 0) > MAX_BINARY) throw new PathError(`${path} is larger than ${MAX_BINARY >> 20} MiB: not an oauth-sync binary`, "EFBIG");
      fd = openSync(`/proc/self/fd/${found.fd}`, constants.O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    } finally {
      closeFound(found);
    }
  }
  try {
    const hash = createHash("sha256");
    const buffer = Buffer.alloc(1 << 20);
    let total = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_BINARY) throw new PathError(`${path} is larger than ${MAX_BINARY >> 20} MiB`, "EFBIG");
      hash.update(buffer.subarray(0, n));
    }
    return hash.digest("hex");
  } finally {
    closeSync(fd);
  }
}

/** Check the units as they will be written, before systemd sees them (in a fresh 0700 directory of ours). */
async function verifyUnits(units: { name: string; content: string }[], deps: InstallDeps): Promise<string | undefined> {
  const dir = mkdtempSync("/tmp/oauth-sync-units-");
  try {
    for (const unit of units) await writeFileAtomic(join(dir, unit.name), unit.content, { newFileMode: 0o644 });
    const result = await deps.run(["systemd-analyze", "verify", ...units.map((u) => join(dir, u.name))], { env: minimalEnv(), timeoutMs: 60_000 });
    if (result.spawnError) return `systemd-analyze not found: is this a systemd machine? (${result.spawnError})`;
    // A warning is a failure too: a unit that systemd reads differently from what we wrote must not be installed.
    const ours = (result.stderr + result.stdout).split("\n").filter((line) => line.includes(dir) || /oauth-sync/.test(line));
    if (result.code !== 0 || ours.length > 0) return `the generated units do not verify:\n${(ours.join("\n") || result.stderr + result.stdout).trim()}`;
  } finally {
    // Our own 0700 directory in sticky /tmp: nobody else can rename or replace it there.
    for (const unit of units) removeFileHere(join(dir, unit.name));
    rmdirSync(dir);
  }
  return undefined;
}

/** `systemctl --user` finds the user's manager through XDG_RUNTIME_DIR (set here where the caller had none). */
export function systemctlEnv(): Record<string, string> {
  const uid = process.geteuid?.() ?? 0;
  const runtime = process.env.XDG_RUNTIME_DIR || (uid !== 0 ? `/run/user/${uid}` : undefined);
  return minimalEnv(runtime ? { XDG_RUNTIME_DIR: runtime } : {});
}

/** Runs systemctl (or another command); its whole error, redacted, when it fails. */
export async function command(argv: string[], deps: Pick<InstallDeps, "run">): Promise<string | undefined> {
  const result = await deps.run(argv, { env: systemctlEnv(), timeoutMs: 120_000 });
  if (result.spawnError) return `${argv[0]}: ${result.spawnError}`;
  if (result.code !== 0) return `${argv.join(" ")} failed (exit ${result.code}): ${outputTail(result.stderr || result.stdout, 20) || "no output"}`;
  return undefined;
}

