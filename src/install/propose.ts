import { join } from "node:path";
import type { ClaudeLogin } from "../detect/claude.ts";
import type { ContainerClaude } from "../detect/container-claude.ts";
import type { NanoClawInstall } from "../detect/nanoclaw.ts";
import { isSqliteEra, type OpenClawInstall } from "../detect/openclaw.ts";

/** More agents than this from a directory someone else owns are proposed only when asked (each is a child per pass). */
export const MANY_AGENTS = 8;

export interface Proposal {
  config: Record<string, unknown>;
  /** Things a person should know or fix, in words. */
  notes: string[];
}

/**
 * Pure: does a running gateway of this release use a rewritten auth-profiles.json without a restart? Measured with
 * bench/pickup.ts on 2026.5.28 (picked up within seconds, same pid); releases before 2026.5 were not measured.
 */
export function jsonStorePickedUpLive(release: string | undefined): boolean {
  const match = release ? /^(\d{4})\.(\d+)\./.exec(release) : null;
  return Boolean(match && (Number(match[1]) > 2026 || Number(match[2]) >= 5));
}

/**
 * Pure: the config for what was found. JSON era (≤ 2026.5): auth-profiles.json for each agent. SQLite era (≥ 2026.6,
 * or a SQLite store on disk): OpenClaw's own CLI, once per agent where there are several. Agents on the Claude CLI
 * runtime are left out (Claude Code keeps their login). Compose: every compose file; the gateway recreated only where
 * a target needs it. Native and Podman: openclaw run as the owner of the state dir (`user`).
 */
export function proposeConfig(
  install: OpenClawInstall,
  login: ClaudeLogin,
  options: {
    claudeOnHost: boolean;
    containers?: ContainerClaude[];
    gatewayUnit?: boolean;
    userGatewayUnits?: Array<{ user?: string; home?: string; name?: string }>;
    /** At most this many agents from an `agents/` directory someone else owns (default MANY_AGENTS). */
    maxAgents?: number;
    /** Who runs install: their own agents are never capped. */
    selfUid?: number;
  },
): Proposal {
  const notes: string[] = [];
  if (install.skippedAgents?.length) notes.push(`skipped agent name(s) in ${join(install.stateDir, "agents")} that are not plain ids (letters, digits, . _ -): ${install.skippedAgents.join(", ")}`);
  const sqlite = install.sqlite || isSqliteEra(install.release) === true;
  if (!install.release) notes.push(`OpenClaw's release is unknown: chose the ${sqlite ? "SQLite" : "JSON"} era from the files on disk; pass --release to be sure`);
  notes.push(...(install.warnings ?? []));
  for (const path of install.missing ?? []) notes.push(`${path} does not exist: the install found points at a directory that is not there (check the compose files and .env, or pass --openclaw-dir)`);
  const cli = install.claudeCliAgents ?? [];
  if (cli.length) notes.push(`agent(s) ${cli.join(", ")} run on the Claude CLI runtime (agentRuntime claude-cli): Claude Code refreshes that login itself, so they need no sync and get no target`);
  let agents = install.agents.filter((a) => !cli.includes(a));
  const max = options.maxAgents ?? MANY_AGENTS;
  const foreign = install.agentsOwner !== undefined && install.agentsOwner !== 0 && install.agentsOwner !== (options.selfUid ?? 0);
  if (foreign && agents.length > max) {
    notes.push(`${agents.length} agents in ${join(install.stateDir, "agents")}, which uid ${install.agentsOwner} owns: proposing ${max} of them (${agents.slice(0, max).join(", ")}); to take all: --max-agents ${agents.length}`);
    agents = agents.slice(0, max);
  }
  const targets: unknown[] = [];
  if (sqlite && install.legacyJson.length) {
    notes.push(`legacy ${install.legacyJson.join(", ")} left on a SQLite-era OpenClaw: 2026.8+ refuses to start until \`openclaw doctor --fix\` (back up openclaw.json first)`);
  }
  const files = install.composeFiles ?? (install.composeFile ? [install.composeFile] : []);
  const owner = install.owner && install.owner.user !== "root" ? install.owner : undefined;
  if (sqlite) {
    const command =
      install.kind === "compose"
        ? ["docker", "compose", ...files.flatMap((f) => ["-f", f]), "exec", "-T", install.service!, ...(install.containerCli ?? ["openclaw"])]
        : install.kind === "podman"
          ? ["podman", "exec", "-i", install.container!, ...(install.containerCli ?? ["openclaw"])]
          : [...(install.cli?.argv ?? ["openclaw"]), ...(install.profile ? ["--profile", install.profile] : [])];
    const runAs = {
      ...(install.kind !== "compose" && owner ? { user: owner.user } : {}),
      ...(install.kind === "native"
        ? { env: { HOME: install.owner?.home ?? join(install.stateDir, ".."), ...(install.cli?.pathDir ? { PATH: `${install.cli.pathDir}:/usr/local/bin:/usr/bin:/bin` } : {}) } }
        : {}),
      // Rootless podman finds the user's containers through XDG_RUNTIME_DIR.
      ...(install.kind === "podman" && install.owner
        ? { env: { HOME: install.owner.home, ...(install.owner.uid !== undefined ? { XDG_RUNTIME_DIR: `/run/user/${install.owner.uid}` } : {}) } }
        : {}),
    };
    // 2026.9 refuses paste-token without --agent once several agents exist; one agent needs no flag (older releases lack it).
    const several = install.agents.length > 1;
    for (const agent of several ? agents : agents.slice(0, 1)) targets.push({ kind: "openclaw-cli", command, ...(several ? { agent } : {}), ...runAs });
  } else {
    const live = jsonStorePickedUpLive(install.release);
    if (!live) notes.push(`release ${install.release ?? "unknown"}: whether a running gateway re-reads auth-profiles.json was not measured; each write reloads the gateway`);
    for (const agent of agents) targets.push({ kind: "openclaw-auth-profiles", path: join(install.stateDir, "agents", agent, "agent/auth-profiles.json"), ...(live ? { reload: false } : {}) });
  }
  if (install.kind === "compose" && install.envToken) {
    // The stored profile wins over the variable in every release: keep the .env current, never recreate for it.
    targets.push({ kind: "env-file", path: join(install.projectDir!, ".env"), reload: false });
    notes.push(`${join(install.projectDir!, ".env")} sets ANTHROPIC_OAUTH_TOKEN: kept current (reload false) so no stale token lingers, though the stored profile wins over it`);
  }
  const unit = install.unit;
  const userUnit = unit?.user
    ? { user: unit.user, name: unit.name }
    : (options.userGatewayUnits ?? []).filter((u) => u.user && u.home && install.stateDir.startsWith(`${u.home}/`)).map((u) => ({ user: u.user!, name: u.name ?? "openclaw-gateway.service" }))[0];
  const gateway =
    install.kind === "compose"
      ? { kind: "compose", projectDir: install.projectDir, files, service: install.service }
      : userUnit
        ? { kind: "systemd", unit: userUnit.name, user: userUnit.user }
        : unit
          ? { kind: "systemd", unit: unit.name }
          : options.gatewayUnit
            ? { kind: "systemd", unit: "openclaw-gateway.service" }
            : { kind: "none" };
  if (gateway.kind === "none") notes.push(`${install.kind} install without a gateway unit: no gateway reload configured`);
  if (!targets.length) notes.push("every agent runs on the Claude CLI runtime: there is nothing for oauth-sync to copy");
  return { config: { credentials: login.path, targets, gateway, trigger: proposeTrigger(login, options, notes) }, notes };
}

/** Pure: how the CLI's refresh is triggered: on this host where `claude` is on PATH, else in a container that runs it. */
function proposeTrigger(login: ClaudeLogin, options: { claudeOnHost: boolean; containers?: ContainerClaude[] }, notes: string[]): Record<string, unknown> {
  const container = (options.containers ?? []).find((c) => c.hostCredentials === login.path) ?? options.containers?.[0];
  const trigger = options.claudeOnHost
    ? { mode: "host" }
    : container
      ? { mode: "container", container: container.container, ...(container.user ? { user: container.user } : {}), ...(container.proxyBaseUrl ? { baseUrlOverride: true } : {}) }
      : { mode: "none" };
  if (trigger.mode === "none") notes.push("no `claude` on this host's PATH nor in a running container: the refresh trigger is off");
  if (container?.proxyBaseUrl && trigger.mode === "container") {
    notes.push(`container ${container.container} points the CLI at ${container.proxyBaseUrl}: the trigger passes ANTHROPIC_BASE_URL=https://api.anthropic.com for its own exec`);
  }
  return trigger;
}

/** What one NanoClaw needs: its target (if any), the restart it needs (if any), and what a person should know. */
export interface NanoClawProposal {
  targets: Record<string, unknown>[];
  gateway?: Record<string, unknown>;
  notes: string[];
}

/**
 * Pure: NanoClaw reads CLAUDE_CODE_OAUTH_TOKEN from the .env in its checkout (src/detect/nanoclaw.ts says how
 * often). Read per container: an env-file target, no reload. Read once at start: the same target, and its unit
 * restarted after a new token. A OneCLI vault: nothing to write. A fork that refreshes the login itself is a second
 * refresher on it: said loudly, whatever else is proposed.
 */
export function proposeNanoClaw(n: NanoClawInstall): NanoClawProposal {
  const notes: string[] = [];
  const at = `NanoClaw ${n.projectDir}${n.version ? ` (${n.version})` : ""}`;
  for (const file of n.refreshers) {
    notes.push(
      `${at}: ${file} refreshes the Claude login itself (the refresh_token grant to the OAuth token endpoint): with Claude Code refreshing it too, ` +
        "two refreshers share one single-use refresh token and the login is logged out. Remove that refresh (keep reading the token), so the CLI stays the one refresher; oauth-sync keeps .env current",
    );
  }
  if (!n.refreshers.length && n.credentialsReaders.length) {
    notes.push(`${at}: ${n.credentialsReaders.join(", ")} read the Claude login file directly (no refresh found): harmless; the .env that oauth-sync keeps current stays its fallback`);
  }
  if (n.apiKey) notes.push(`${at}: .env sets ANTHROPIC_API_KEY, which NanoClaw uses before CLAUDE_CODE_OAUTH_TOKEN: the subscription token is kept current but not used`);
  if (n.reads === "onecli") {
    notes.push(`${at} keeps its Anthropic credential in the OneCLI vault, not in .env (\`onecli secrets\` takes the value in its argv, which oauth-sync never does): no target proposed; see docs/CONSUMERS.md`);
    return { targets: [], notes };
  }
  const target = { kind: "env-file", path: n.envFile, variable: "CLAUDE_CODE_OAUTH_TOKEN" };
  if (!n.envToken) notes.push(`${n.envFile} has no CLAUDE_CODE_OAUTH_TOKEN line yet: oauth-sync adds one`);
  if (n.envLineProblem) notes.push(`${n.envFile}: the CLAUDE_CODE_OAUTH_TOKEN line ${n.envLineProblem}: make it a plain \`CLAUDE_CODE_OAUTH_TOKEN=…\` line (oauth-sync keeps what surrounds the value)`);
  if (n.reads === "per-container") {
    notes.push(`${at} reads .env for every agent container it starts (${n.readsFrom}): no restart; a container already running keeps the token it started with`);
    return { targets: [{ ...target, reload: false }], notes };
  }
  const why = n.reads === "at-start" ? `reads .env once, when it starts (${n.readsFrom})` : "reads .env in a way not recognised";
  if (!n.unit) {
    notes.push(`${at} ${why}, and no unit runs it: restart it yourself after a new token, or run it from a unit and install again`);
    return { targets: [{ ...target, reload: false }], notes };
  }
  notes.push(`${at} ${why}: its unit ${n.unit.name} is restarted after each new token`);
  return { targets: [{ ...target, reload: true }], gateway: { kind: "systemd", unit: n.unit.name, ...(n.unit.user ? { user: n.unit.user } : {}) }, notes };
}

/**
 * Pure: the config where NanoClaw is the consumer found (no OpenClaw): the login to follow, its target(s), its restart
 * as the gateway where one is needed, the refresh trigger.
 */
export function proposeNanoClawConfig(installs: NanoClawInstall[], login: ClaudeLogin, options: { claudeOnHost: boolean; containers?: ContainerClaude[] }): Proposal {
  const notes: string[] = [];
  const targets: unknown[] = [];
  let gateway: Record<string, unknown> = { kind: "none" };
  for (const install of installs) {
    const proposal = proposeNanoClaw(install);
    targets.push(...proposal.targets);
    notes.push(...proposal.notes);
    if (proposal.gateway && gateway.kind === "none") gateway = proposal.gateway;
    else if (proposal.gateway) notes.push(`${install.projectDir}: only one gateway can be restarted: restart ${install.unit?.name} yourself after a new token`);
  }
  return { config: { credentials: login.path, targets, gateway, trigger: proposeTrigger(login, options, notes) }, notes };
}

/** Pure: NanoClaw found beside OpenClaw: its targets join OpenClaw's; a restart it needs cannot take the gateway's place. */
export function addNanoClaw(proposal: Proposal, installs: NanoClawInstall[]): Proposal {
  const targets = [...(proposal.config.targets as unknown[])];
  const notes = [...proposal.notes];
  for (const install of installs) {
    const extra = proposeNanoClaw(install);
    notes.push(...extra.notes);
    if (!extra.gateway) {
      targets.push(...extra.targets);
      continue;
    }
    targets.push(...extra.targets.map((t) => ({ ...t, reload: false })));
    notes.push(`${install.projectDir}: the gateway reloaded is OpenClaw's: restart ${extra.gateway.unit} yourself after a new token`);
  }
  return { config: { ...proposal.config, targets }, notes };
}
