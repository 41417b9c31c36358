import { ownerRun } from "../privilege/owner-run.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { dirname, join } from "node:path";
import { configDirsSeen, findClaudeLogins, loginsAt, pickLogin, type ClaudeLogin } from "./detect-claude.ts";
import { findContainerClaude, type ContainerClaude } from "./detect-container-claude.ts";
import { candidateDirs, composeInstall, gatewayUnitFiles, imagePackageRelease, nativeInstall, type Found, type OpenClawInstall } from "./detect-openclaw.ts";

export interface Overrides {
  credentials?: string;
  openclawDir?: string;
  projectDir?: string;
  release?: string;
}

export interface Detection {
  logins: Found<ClaudeLogin>[];
  installs: Found<OpenClawInstall>[];
  login?: Found<ClaudeLogin>;
  install?: Found<OpenClawInstall>;
  claudeOnHost: boolean;
  containers: Found<ContainerClaude>[];
  /** A loaded `openclaw-gateway.service` system unit (a native gateway run by systemd). */
  gatewayUnit: boolean;
  /** `openclaw-gateway.service` unit files: the system's, and users' own (`~/.config/systemd/user`). */
  gatewayUnits: Found<{ user?: string; home?: string }>[];
}

/** Look around the machine (under `root`, a seam for tests); flags win over what was found. */
export async function detect(root: string, overrides: Overrides, deps: { run: ProcessRunner; now: number; cwd: string }): Promise<Detection> {
  const logins = await findClaudeLogins(root, deps.now);
  if (root === "/") {
    const seen = (await configDirsSeen()).map((dir) => join(dir, ".credentials.json")).filter((p) => !logins.some((l) => l.value.path === p));
    logins.push(...(await loginsAt(root, seen, deps.now, "CLAUDE_CONFIG_DIR of a running process")));
  }
  const containers = await findContainerClaude(deps.run);
  for (const c of containers) {
    const path = c.value.hostCredentials;
    if (path && !logins.some((l) => l.value.path === path)) logins.push(...(await loginsAt(root, [path], deps.now, `via ${c.value.container}`)));
  }
  const dirs = overrides.projectDir ? [overrides.projectDir] : await candidateDirs(root, [deps.cwd, ...(await runningComposeDirs(deps.run))]);
  const installs: Found<OpenClawInstall>[] = [];
  for (const dir of dirs) {
    const found = await composeInstall(root, dir, deps.run);
    if (found) installs.push(found);
  }
  for (const home of overrides.projectDir ? [] : ["/root", ...dirs.filter((d) => /^\/home\/[^/]+$/.test(d))]) {
    const found = await nativeInstall(root, home);
    if (found && !installs.some((i) => i.value.stateDir === found.value.stateDir)) installs.push(found);
  }
  for (let i = 0; i < installs.length; i++) installs[i] = await refineRelease(installs[i]!, deps.run);
  let install = overrides.openclawDir ? installs.find((i) => i.value.stateDir === overrides.openclawDir) : installs[0];
  if (overrides.openclawDir && !install) {
    const native = await nativeInstall(root, `${overrides.openclawDir}/..`);
    install = native && { value: { ...native.value, stateDir: overrides.openclawDir }, source: "--openclaw-dir" };
  }
  if (install && overrides.release) install = { value: { ...install.value, release: overrides.release }, source: `${install.source}; release from --release` };
  let login = pickLogin(logins);
  if (overrides.credentials) login = { value: { path: overrides.credentials, uid: 0, home: "" }, source: "--credentials" };
  const which = await deps.run(["sh", "-c", "command -v claude"], { env: minimalEnv(), timeoutMs: 5000 });
  const unit = root === "/" ? await deps.run(["systemctl", "show", "-p", "LoadState", "--value", "openclaw-gateway.service"], { env: minimalEnv(), timeoutMs: 10_000 }) : undefined;
  const homes = ["/root", ...(await candidateDirs(root)).filter((d) => /^\/home\/[^/]+$/.test(d))];
  const gatewayUnits = await gatewayUnitFiles(root, homes);
  const gatewayUnit = unit?.stdout.trim() === "loaded" || gatewayUnits.some((u) => !u.value.user);
  return { logins, installs, login, install, claudeOnHost: which.code === 0, containers, gatewayUnit, gatewayUnits };
}

/** A release not found in the files: the image's version label, or what `openclaw --version` says on this host. */
async function refineRelease(found: Found<OpenClawInstall>, run: ProcessRunner): Promise<Found<OpenClawInstall>> {
  if (found.value.release) return found;
  const { kind, image } = found.value;
  const argv =
    kind === "compose" && image
      ? ["docker", "image", "inspect", "--format", '{{index .Config.Labels "org.opencontainers.image.version"}}', image]
      : kind === "native"
        ? ["openclaw", "--version"]
        : undefined;
  if (!argv) return found;
  // A native install's openclaw reads its owner's home: run it as that owner, never as root against it.
  const as = kind === "native" ? ownerRun(found.value.stateDir, { ...minimalEnv(), HOME: dirname(found.value.stateDir) }) : { ok: true as const, options: { env: minimalEnv() } };
  if (!as.ok) return found;
  const result = await run(argv, { ...as.options, timeoutMs: 30_000 });
  const release = result.code === 0 ? /(\d{4}\.\d+\.\d+)/.exec(result.stdout)?.[1] : undefined;
  if (release) return { value: { ...found.value, release }, source: `${found.source}, release ${release} (${kind === "compose" ? "image label" : "openclaw --version"})` };
  const inImage = kind === "compose" && image ? await imagePackageRelease(image, run) : undefined;
  if (!inImage) return found;
  return { value: { ...found.value, release: inImage.release }, source: `${found.source}, release ${inImage.release} (${inImage.path} in the image)` };
}

/** Working dirs of running compose projects, from their containers' labels (none when docker is absent or down). */
async function runningComposeDirs(run: ProcessRunner): Promise<string[]> {
  const ps = await run(["docker", "ps", "--format", '{{.Label "com.docker.compose.project.working_dir"}}'], { env: minimalEnv(), timeoutMs: 10_000 });
  if (ps.code !== 0) return [];
  return [...new Set(ps.stdout.split("\n").map((l) => l.trim()).filter(Boolean))];
}

export function formatDetection(d: Detection): string[] {
  const lines = ["Claude Code logins:"];
  if (!d.logins.length) lines.push("  none found (~/.claude/.credentials.json of root and /home/*): pass --credentials FILE");
  for (const l of d.logins) {
    const v = l.value;
    const state = v.problem ? `unusable: ${v.problem}` : `token ${v.fingerprint}, expires ${new Date(v.expiresAt!).toISOString()}`;
    lines.push(`  ${l.value.path === d.login?.value.path ? "→" : " "} ${l.source}: ${state}`);
  }
  lines.push("OpenClaw:");
  if (!d.installs.length) lines.push("  none found (compose projects in /opt, /srv, home dirs, the working dir; ~/.openclaw): pass --openclaw-dir or --project-dir");
  if (d.login && !d.logins.some((l) => l.value.path === d.login?.value.path)) lines.push(`  → ${d.login.value.path} (${d.login.source})`);
  for (const i of d.installs) lines.push(`  ${i.value.stateDir === d.install?.value.stateDir ? "→" : " "} ${i.value.kind}: ${i.source}; agents ${i.value.agents.join(", ")}${i.value.sqlite ? "; SQLite store" : ""}`);
  lines.push(`claude on this host: ${d.claudeOnHost ? "yes" : "no"}`);
  for (const c of d.containers) lines.push(`  ${c.source}${c.value.proxyBaseUrl ? `; ANTHROPIC_BASE_URL=${c.value.proxyBaseUrl} (the trigger will override it)` : ""}`);
  if (d.gatewayUnit && !d.gatewayUnits.some((u) => !u.value.user)) lines.push("openclaw-gateway.service: loaded (systemd gateway)");
  for (const u of d.gatewayUnits) lines.push(`openclaw-gateway.service: ${u.source}`);
  return lines;
}
