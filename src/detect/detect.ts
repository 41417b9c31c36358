import { parsePasswd } from "../users/accounts.ts";
import { readTextIfRegular } from "../fs/open-file.ts";
import { ownerRun } from "../privilege/owner-run.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { configDirsSeen, findClaudeLogins, loginsAt, type ClaudeLogin } from "./claude.ts";
import { findContainerClaude, type ContainerClaude } from "./container-claude.ts";
import { candidateDirs, composeInstall, imagePackageRelease, stateFacts, type Found, type OpenClawInstall } from "./openclaw.ts";
import { gatewayUnitFiles, nativeInstalls, quadletInstalls, runningGatewayStateDirs } from "./native.ts";
import { rank, settlingFlag, type Scored } from "./choose.ts";
import { pairUp } from "./pairing.ts";
import { dockerEnv } from "../gateway/compose.ts";
import { nanoclawInstalls, type NanoClawInstall } from "./nanoclaw.ts";

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
  /** The login and the OpenClaw belong to different users: paired only with --cross-user or a person's yes. */
  cross?: { loginUser: string; installUser: string };
  /** What detection alone chose, shown beside what flags chose. */
  detectedAlone: { login?: Found<ClaudeLogin>; install?: Found<OpenClawInstall> };
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
  // Detection runs whole even where flags decide, so the summary can say what it would have said beside them.
  const dirs = [...new Set([...(await candidateDirs(root, [deps.cwd, ...running])), ...homes, ...(await Promise.all(homes.map((h) => candidateDirs(root, [], h)))).flat()])];
  const installs: Found<OpenClawInstall>[] = [];
  for (const dir of dirs) {
    const found = await composeInstall(root, dir, deps.run);
    if (found) installs.push(found);
  }
  const seen = (i: Found<OpenClawInstall>) => installs.some((j) => j.value.stateDir === i.value.stateDir);
  for (const home of homes) {
    for (const found of [...(await quadletInstalls(root, home)), ...(await nativeInstalls(root, home))]) if (!seen(found)) installs.push(found);
  }
  for (let i = 0; i < installs.length; i++) installs[i] = await refineRelease(installs[i]!, deps.run);
  const { ranked } = rank(installs, running, root === "/" ? await runningGatewayStateDirs() : []);
  const passwd = parsePasswd(readTextIfRegular(join(root, "/etc/passwd")) ?? "");
  const detected = pairUp(logins, ranked, passwd, deps.now);
  const fixedInstall = await explicitInstall(root, overrides, installs, deps.run);
  const fixedLogin = overrides.credentials ? await explicitLogin(root, overrides.credentials, logins, deps.now) : undefined;
  const pair = fixedInstall || fixedLogin ? pairUp(logins, ranked, passwd, deps.now, { login: fixedLogin, install: fixedInstall }) : detected;
  let install = pair.install;
  if (install && overrides.release) install = { value: { ...install.value, release: overrides.release }, source: `${install.source}; release from --release` };
  const which = await deps.run(["sh", "-c", "command -v claude"], { env: minimalEnv(), timeoutMs: 5000 });
  const unit = root === "/" ? await deps.run(["systemctl", "show", "-p", "LoadState", "--value", "openclaw-gateway.service"], { env: minimalEnv(), timeoutMs: 10_000 }) : undefined;
  const gatewayUnits = await gatewayUnitFiles(root, homes);
  const gatewayUnit = unit?.stdout.trim() === "loaded" || gatewayUnits.some((u) => !u.value.user);
  const nanoclaw = await nanoclawInstalls(root, homes);
  return {
    logins,
    installs,
    login: pair.login,
    install,
    ranked,
    tie: pair.tie && !fixedInstall,
    ...(pair.cross ? { cross: pair.cross } : {}),
    detectedAlone: { login: detected.login, install: detected.install },
    claudeOnHost: which.code === 0,
    containers,
    gatewayUnit,
    gatewayUnits,
    nanoclaw: nanoclaw.found,
    nanoclawSkipped: nanoclaw.skipped,
  };
}

/** What --project-dir or --openclaw-dir names, taken as given (found there even where detection passed it by). */
async function explicitInstall(root: string, overrides: Overrides, installs: Found<OpenClawInstall>[], run: ProcessRunner): Promise<Found<OpenClawInstall> | undefined> {
  if (overrides.projectDir) {
    const dir = overrides.projectDir;
    const known = installs.find((i) => i.value.projectDir === dir);
    const fresh = known ? undefined : await composeInstall(root, dir, run);
    const found = known ?? (fresh && (await refineRelease(fresh, run)));
    if (found) return { value: found.value, source: `--project-dir ${dir}: ${found.source}` };
    const nothing = { kind: "compose" as const, stateDir: "", projectDir: dir, agents: [], sqlite: false, legacyJson: [], problems: [`no compose service in ${dir} mounts OpenClaw's state dir (/home/node/.openclaw): pass --openclaw-dir too`] };
    return { value: nothing, source: `--project-dir ${dir}: no OpenClaw service found there` };
  }
  if (!overrides.openclawDir) return undefined;
  const dir = overrides.openclawDir;
  const known = installs.find((i) => i.value.stateDir === dir);
  if (known) return { value: known.value, source: `--openclaw-dir ${dir}: ${known.source}` };
  const native = (await nativeInstalls(root, dirname(dir))).find((n) => n.value.stateDir === dir);
  const facts = native?.value ?? { kind: "native" as const, stateDir: dir, ...(await stateFacts(root, dir)) };
  const missing = (await stat(join(root, dir)).catch(() => undefined)) ? [] : [dir];
  return { value: { ...facts, stateDir: dir, missing }, source: `--openclaw-dir ${dir}${missing.length ? " (MISSING)" : ""}` };
}

/** What --credentials names, with its real owner (a file elsewhere than ~/.claude still belongs to someone). */
async function explicitLogin(root: string, path: string, logins: Found<ClaudeLogin>[], now: number): Promise<Found<ClaudeLogin>> {
  const known = logins.find((l) => l.value.path === path) ?? (await loginsAt(root, [path], now))[0];
  if (known) return { value: known.value, source: `--credentials ${path}` };
  return { value: { path, uid: -1, home: dirname(dirname(path)), problem: "does not exist (yet)" }, source: `--credentials ${path} (MISSING)` };
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
  const alone = d.detectedAlone;
  const lines = ["Claude Code logins:"];
  if (!d.logins.length && !d.login) lines.push("  none found (~/.claude/.credentials.json of root and /home/*): pass --credentials FILE");
  for (const l of d.logins) {
    const v = l.value;
    const state = v.problem ? `unusable: ${v.problem}` : `token ${v.fingerprint}, expires ${new Date(v.expiresAt!).toISOString()}`;
    lines.push(`  ${l.value.path === d.login?.value.path ? "→" : " "} ${l.source}: ${state}`);
  }
  if (d.login && !d.logins.some((l) => l.value.path === d.login?.value.path)) lines.push(`  → ${d.login.source}${d.login.value.problem ? `: ${d.login.value.problem}` : ""}`);
  if (d.login?.source.startsWith("--")) lines.push(`      taken as given; detection alone: ${alone.login?.value.path ?? "none found"}`);
  lines.push("OpenClaw:");
  if (!d.installs.length && !d.install) lines.push("  none found (compose projects in /opt, /srv, home dirs, the working dir; ~/.openclaw): pass --openclaw-dir or --project-dir");
  const scored = d.ranked.length ? d.ranked : d.installs.map((found) => ({ found, score: 0, reasons: [] as string[] }));
  const listed = scored.some((s) => s.found.value.stateDir === d.install?.value.stateDir && s.found.source === d.install?.source);
  if (d.install && !listed) lines.push(...describeInstall(d.install, true));
  if (d.install?.source.startsWith("--")) {
    const found = alone.install;
    lines.push(`      taken as given; detection alone: ${found ? `${found.value.kind} ${found.value.projectDir ?? found.value.stateDir}` : "none found"}`);
  }
  for (const { found: i, score, reasons } of scored) {
    lines.push(...describeInstall(i, listed && i.value.stateDir === d.install?.value.stateDir));
    if (reasons.length) lines.push(`      score ${score}: ${reasons.join(", ")}`);
  }
  if (d.tie && d.ranked.length > 1) lines.push(`  tie: ${d.ranked[0]!.found.value.stateDir} and ${d.ranked[1]!.found.value.stateDir} scored ${d.ranked[0]!.score}: pick one with ${settlingFlag(d.ranked[0]!.found.value)} (or ${settlingFlag(d.ranked[1]!.found.value)})`);
  if (d.cross) lines.push(`  the login is ${d.cross.loginUser}'s, this OpenClaw is ${d.cross.installUser}'s: two different users`);
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

function describeInstall(i: Found<OpenClawInstall>, chosen: boolean): string[] {
  const v = i.value;
  const lines = [`  ${chosen ? "→" : " "} ${v.kind}: ${i.source}; agents ${v.agents.join(", ") || "none"}${v.agentsFrom ? ` (from ${v.agentsFrom})` : ""}${v.sqlite ? "; SQLite store" : ""}`];
  for (const path of v.missing ?? []) lines.push(`      missing: ${path} does not exist on this machine`);
  for (const problem of v.problems ?? []) lines.push(`      problem: ${problem}`);
  if (v.skippedAgents?.length) lines.push(`      skipped agent name(s) that are not plain ids: ${v.skippedAgents.join(", ")}`);
  if (v.claudeCliAgents?.length) lines.push(`      agent(s) ${v.claudeCliAgents.join(", ")} run on the Claude CLI runtime (agentRuntime claude-cli): Claude Code refreshes their login itself, they need no sync`);
  return lines;
}
