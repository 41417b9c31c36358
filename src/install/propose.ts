import { join } from "node:path";
import type { ClaudeLogin } from "./detect-claude.ts";
import type { ContainerClaude } from "./detect-container-claude.ts";
import { isSqliteEra, type OpenClawInstall } from "./detect-openclaw.ts";

export interface Proposal {
  config: Record<string, unknown>;
  /** Things a person should know or fix, in words. */
  notes: string[];
}

/**
 * Pure: the config for what was found. JSON era (≤ 2026.5): auth-profiles.json for each agent. SQLite era (≥ 2026.6,
 * or a SQLite store on disk): OpenClaw's own CLI. Compose: also the project's .env, and the gateway recreated.
 */
export function proposeConfig(
  install: OpenClawInstall,
  login: ClaudeLogin,
  options: { claudeOnHost: boolean; containers?: ContainerClaude[]; gatewayUnit?: boolean; userGatewayUnits?: Array<{ user?: string; home?: string }> },
): Proposal {
  const notes: string[] = [];
  const sqlite = install.sqlite || isSqliteEra(install.release) === true;
  if (!install.release) notes.push(`OpenClaw's release is unknown: chose the ${sqlite ? "SQLite" : "JSON"} era from the files on disk; pass --release to be sure`);
  const targets: unknown[] = [];
  if (sqlite && install.legacyJson.length) {
    notes.push(`legacy ${install.legacyJson.join(", ")} left on a SQLite-era OpenClaw: 2026.8+ refuses to start until \`openclaw doctor --fix\` (back up openclaw.json first)`);
  }
  if (sqlite) {
    const command =
      install.kind === "compose"
        ? ["docker", "compose", "-f", install.composeFile!, "exec", "-T", install.service!, "openclaw"]
        : ["openclaw"];
    for (const agent of install.agents.filter((a) => a !== "main")) notes.push(`agent ${agent}: openclaw-cli writes the default agent's store; add a target for ${agent} by hand if it needs its own`);
    targets.push({ kind: "openclaw-cli", command, ...(install.kind === "native" ? { env: { HOME: join(install.stateDir, "..") } } : {}) });
  } else {
    for (const agent of install.agents) targets.push({ kind: "openclaw-auth-profiles", path: join(install.stateDir, "agents", agent, "agent/auth-profiles.json") });
  }
  if (install.kind === "compose") targets.push({ kind: "env-file", path: join(install.projectDir!, ".env") });
  // A native gateway run by its user's own manager (`openclaw onboard --install-daemon`) is restarted there.
  const userUnit = (options.userGatewayUnits ?? []).find((u) => u.user && u.home && install.stateDir.startsWith(`${u.home}/`));
  const gateway =
    install.kind === "compose"
      ? { kind: "compose", projectDir: install.projectDir, files: [install.composeFile], service: install.service }
      : userUnit
        ? { kind: "systemd", unit: "openclaw-gateway.service", user: userUnit.user }
        : options.gatewayUnit
          ? { kind: "systemd", unit: "openclaw-gateway.service" }
          : { kind: "none" };
  if (gateway.kind === "none") notes.push("native install without an openclaw-gateway unit: no gateway reload configured");
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
  return { config: { credentials: login.path, targets, gateway, trigger }, notes };
}
