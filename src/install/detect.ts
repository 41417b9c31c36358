import { parsePasswd } from "../users/accounts.ts";
import { readTextIfRegular } from "../fs/open-file.ts";
import { ownerRun } from "../privilege/owner-run.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { configDirsSeen, findClaudeLogins, loginsAt, pickLogin, type ClaudeLogin } from "./detect-claude.ts";
import { findContainerClaude, type ContainerClaude } from "./detect-container-claude.ts";
import { candidateDirs, composeInstall, imagePackageRelease, stateFacts, type Found, type OpenClawInstall } from "./detect-openclaw.ts";
import { gatewayUnitFiles, nativeInstalls, quadletInstalls, runningGatewayStateDirs } from "./detect-native.ts";
import { rank, settlingFlag, type Scored } from "./choose.ts";
import { dockerEnv } from "../gateway/compose.ts";
import { nanoclawInstalls, type NanoClawInstall } from "./detect-nanoclaw.ts";

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
  /** Gateway unit files: the system's, users' own (`~/.config/systemd/user`), and Podman Quadlets. */
  gatewayUnits: Found<{ user?: string; home?: string; name: string }>[];
  /** The installs, best first, with the evidence each scored on. */
  ranked: Scored[];
  /** The best two scored the same and no flag decided: --yes must refuse. */
  tie: boolean;
  /** NanoClaw checkouts (its units, ~/nanoclaw): other consumers of the same login. */
  nanoclaw: Found<NanoClawInstall>[];
  /** NanoClaw units whose directory no config could hold (control characters), with why. */
  nanoclawSkipped: string[];
}

/** Homes to search: root's, every /home/*, and those of the invoking user ($HOME, SUDO_USER's). */
export async function searchHomes(root: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const listed = (await candidateDirs(root)).filter((d) => /^\/home\/[^/]+$/.test(d));
  const passwd = (readTextIfRegular(join(root, "/etc/passwd")) ?? "");
  const sudoHome = env.SUDO_USER ? (parsePasswd(passwd).find((e) => e.name === env.SUDO_USER)?.home ?? `/home/${env.SUDO_USER}`) : undefined;
  return [...new Set(["/root", ...listed, ...(env.HOME && env.HOME !== "/" ? [env.HOME] : []), ...(sudoHome ? [sudoHome] : [])])];
}

/** Look around the machine (under `root`, a seam for tests); flags win over what was found. */
export async function detect(root: string, overrides: Overrides, deps: { run: ProcessRunner; now: number; cwd: string; env?: NodeJS.ProcessEnv }): Promise<Detection> {
  const homes = await searchHomes(root, deps.env);
  const logins = await findClaudeLogins(root, deps.now, homes);
  if (root === "/") {
    const seen = (await configDirsSeen()).map((dir) => join(dir, ".credentials.json")).filter((p) => !logins.some((l) => l.value.path === p));
    logins.push(...(await loginsAt(root, seen, deps.now, "CLAUDE_CONFIG_DIR of a running process")));
  }
  const containers = await findContainerClaude(deps.run);
  for (const c of containers) {
    const path = c.value.hostCredentials;
    if (path && !logins.some((l) => l.value.path === path)) logins.push(...(await loginsAt(root, [path], deps.now, `via ${c.value.container}`)));
  }
  const running = await runningComposeDirs(deps.run);
  const dirs = overrides.projectDir ? [overrides.projectDir] : [...new Set([...(await candidateDirs(root, [deps.cwd, ...running])), ...homes, ...(await Promise.all(homes.map((h) => candidateDirs(root, [], h)))).flat()])];
  const installs: Found<OpenClawInstall>[] = [];
  for (const dir of dirs) {
    const found = await composeInstall(root, dir, deps.run);
    if (found) installs.push(found);
  }
  const seen = (i: Found<OpenClawInstall>) => installs.some((j) => j.value.stateDir === i.value.stateDir);
  for (const home of overrides.projectDir ? [] : homes) {
    for (const found of [...(await quadletInstalls(root, home)), ...(await nativeInstalls(root, home))]) if (!seen(found)) installs.push(found);
  }
  for (let i = 0; i < installs.length; i++) installs[i] = await refineRelease(installs[i]!, deps.run);
  const { ranked, tie } = rank(installs, running, root === "/" ? await runningGatewayStateDirs() : []);
  let install = overrides.openclawDir ? installs.find((i) => i.value.stateDir === overrides.openclawDir) : overrides.projectDir ? installs[0] : ranked[0]?.found;
  if (overrides.openclawDir && !install) {
    const parent = dirname(overrides.openclawDir);
    const native = (await nativeInstalls(root, parent)).find((n) => n.value.stateDir === overrides.openclawDir);
    const facts = native?.value ?? { kind: "native" as const, stateDir: overrides.openclawDir, ...(await stateFacts(root, overrides.openclawDir)) };
    const missing = (await stat(join(root, overrides.openclawDir)).catch(() => undefined)) ? [] : [overrides.openclawDir];
    install = { value: { ...facts, stateDir: overrides.openclawDir, missing }, source: `--openclaw-dir${missing.length ? " (MISSING)" : ""}` };
  }
  if (install && overrides.release) install = { value: { ...install.value, release: overrides.release }, source: `${install.source}; release from --release` };
  let login = pickLogin(logins, deps.now);
  if (overrides.credentials) login = { value: { path: overrides.credentials, uid: 0, home: "" }, source: "--credentials" };
  const which = await deps.run(["sh", "-c", "command -v claude"], { env: minimalEnv(), timeoutMs: 5000 });
  const unit = root === "/" ? await deps.run(["systemctl", "show", "-p", "LoadState", "--value", "openclaw-gateway.service"], { env: minimalEnv(), timeoutMs: 10_000 }) : undefined;
  const gatewayUnits = await gatewayUnitFiles(root, homes);
  const gatewayUnit = unit?.stdout.trim() === "loaded" || gatewayUnits.some((u) => !u.value.user);
  const decided = Boolean(overrides.openclawDir || overrides.projectDir);
  const nanoclaw = await nanoclawInstalls(root, homes);
  return { logins, installs, login, install, ranked, tie: tie && !decided, claudeOnHost: which.code === 0, containers, gatewayUnit, gatewayUnits, nanoclaw: nanoclaw.found, nanoclawSkipped: nanoclaw.skipped };
}

/** A release not found in the files: the image's version label, or what `openclaw --version` says on this host. */
async function refineRelease(found: Found<OpenClawInstall>, run: ProcessRunner): Promise<Found<OpenClawInstall>> {
  if (found.value.release) return found;
  const { kind, image } = found.value;
  const argv =
    kind === "compose" && image
      ? ["docker", "image", "inspect", "--format", '{{index .Config.Labels "org.opencontainers.image.version"}}', image]
      : kind === "native"
        ? [...(found.value.cli?.argv ?? ["openclaw"]), "--version"]
        : undefined;
  if (!argv) return found;
  // A native install's openclaw reads its owner's home: run it as that owner, never as root against it.
  const as = kind === "native" ? ownerRun(found.value.stateDir, { ...minimalEnv(), HOME: dirname(found.value.stateDir) }) : { ok: true as const, options: { env: dockerEnv() } };
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
  const ps = await run(["docker", "ps", "--format", '{{.Label "com.docker.compose.project.working_dir"}}'], { env: dockerEnv(), timeoutMs: 10_000 });
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
  const scored = d.ranked.length ? d.ranked : d.installs.map((found) => ({ found, score: 0, reasons: [] as string[] }));
  for (const { found: i, score, reasons } of scored) {
    const v = i.value;
    lines.push(`  ${v.stateDir === d.install?.value.stateDir ? "→" : " "} ${v.kind}: ${i.source}; agents ${v.agents.join(", ")}${v.agentsFrom ? ` (from ${v.agentsFrom})` : ""}${v.sqlite ? "; SQLite store" : ""}`);
    if (reasons.length) lines.push(`      score ${score}: ${reasons.join(", ")}`);
    for (const path of v.missing ?? []) lines.push(`      missing: ${path} does not exist on this machine`);
    for (const problem of v.problems ?? []) lines.push(`      problem: ${problem}`);
    if (v.claudeCliAgents?.length) lines.push(`      agent(s) ${v.claudeCliAgents.join(", ")} run on the Claude CLI runtime (agentRuntime claude-cli): Claude Code refreshes their login itself, they need no sync`);
  }
  if (d.tie && d.ranked.length > 1) lines.push(`  tie: ${d.ranked[0]!.found.value.stateDir} and ${d.ranked[1]!.found.value.stateDir} scored ${d.ranked[0]!.score}: pick one with ${settlingFlag(d.ranked[0]!.found.value)} (or ${settlingFlag(d.ranked[1]!.found.value)})`);
  lines.push(`claude on this host: ${d.claudeOnHost ? "yes" : "no"}`);
  for (const c of d.containers) lines.push(`  ${c.source}${c.value.proxyBaseUrl ? `; ANTHROPIC_BASE_URL=${c.value.proxyBaseUrl} (the trigger will override it)` : ""}`);
  if (d.gatewayUnit && !d.gatewayUnits.some((u) => !u.value.user)) lines.push("openclaw-gateway.service: loaded (systemd gateway)");
  for (const u of d.gatewayUnits) lines.push(`${u.value.name}: ${u.source}`);
  if (d.nanoclaw.length || d.nanoclawSkipped.length) lines.push("NanoClaw:");
  for (const skipped of d.nanoclawSkipped) lines.push(`  skipped ${skipped}`);
  for (const { value: n, source } of d.nanoclaw) {
    const reads = { "per-container": "reads .env per container", "at-start": "reads .env once at start", onecli: "OneCLI vault", unknown: "reads .env (how often: not recognised)" }[n.reads];
    lines.push(`  ${source}; ${n.envFile}${n.owner ? ` (owner ${n.owner.user})` : ""}; ${n.version ?? "version unknown"}; ${reads}${n.refreshers.length ? "; REFRESHES THE LOGIN ITSELF" : ""}`);
  }
  return lines;
}
