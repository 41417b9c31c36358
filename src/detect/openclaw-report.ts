import { basename, dirname, resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import { outputTail } from "../process/output.ts";
import type { ProcessRunner } from "../process/run.ts";
import { openclawRunAs } from "../targets/openclaw-cli.ts";

export interface OpenClawView {
  source: string;
  status?: string;
  type?: string;
  expiresAt?: number;
  error?: string;
}

/** Pure: the Anthropic default profile as `openclaw models status --json` reports it. */
export function anthropicProfile(stdout: string): Omit<OpenClawView, "source"> {
  const start = stdout.indexOf("{");
  if (start < 0) return { error: "no JSON in the output" };
  try {
    const status = JSON.parse(stdout.slice(start));
    const profiles: Array<Record<string, unknown>> = status?.auth?.oauth?.profiles ?? [];
    const profile = profiles.find((p) => p.provider === "anthropic") ?? profiles[0];
    if (!profile) return { status: "missing" };
    return { status: String(profile.status), type: String(profile.type), expiresAt: typeof profile.expiresAt === "number" ? profile.expiresAt : undefined };
  } catch {
    return { error: "output is not JSON" };
  }
}

/** How to ask OpenClaw itself: the openclaw-cli target's command, or `openclaw` with the HOME that owns a JSON store. */
export function openclawCommands(config: Config): Array<{ argv: string[]; command: string[]; env: Record<string, string>; user?: string; source: string; guessed?: boolean }> {
  const commands = [];
  for (const target of config.targets) {
    if (target.kind === "openclaw-cli") {
      // Several agents: each has its own store, asked for by id (`models status --agent ID`).
      const agent = target.agent ? ["--agent", target.agent] : [];
      commands.push({ argv: [...target.command, "models", "status", "--json", ...agent], command: target.command, env: target.env, user: target.user, source: `${target.command.join(" ")}${target.agent ? ` (agent ${target.agent})` : ""}` });
    } else if (target.kind === "openclaw-auth-profiles") {
      const stateDir = resolve(dirname(target.path), "../../..");
      if (basename(stateDir) === ".openclaw") commands.push({ argv: ["openclaw", "models", "status", "--json"], command: ["openclaw"], env: { HOME: dirname(stateDir) }, source: `openclaw (HOME=${dirname(stateDir)})`, guessed: true });
    }
  }
  return commands;
}

/** What OpenClaw reports, where it can be asked; a command that is not there is skipped, not an error. */
export async function askOpenClaw(config: Config, run: ProcessRunner): Promise<OpenClawView[]> {
  const views: OpenClawView[] = [];
  for (const command of openclawCommands(config)) {
    const as = openclawRunAs(command);
    // A host `openclaw` guessed from a JSON store is no one's to run where the store is not its HOME owner's (a
    // container's state under /root, as in OpenClaw's Hetzner guide): nothing to ask, not a problem.
    if (!as.ok && command.guessed) continue;
    if (!as.ok) {
      views.push({ source: command.source, error: as.message });
      continue;
    }
    const result = await run(command.argv, { ...as.options, timeoutMs: 60_000 });
    if (result.spawnError) continue;
    views.push({ source: command.source, ...(result.code === 0 ? anthropicProfile(result.stdout) : { error: `exit ${result.code}: ${outputTail(result.stderr)}` }) });
  }
  return views;
}

/** A token that lives longer than this is not Claude Code's 8-hour login: most likely `claude setup-token` (a year). */
const LONG_LIVED_MS = 30 * 24 * 3_600_000;

/** Pure: what to tell a person about long-lived tokens OpenClaw holds (oauth-sync will not replace them unasked). */
export function longLivedWarnings(views: OpenClawView[], now: number): string[] {
  return views
    .filter((v) => v.expiresAt !== undefined && v.expiresAt - now > LONG_LIVED_MS)
    .map(
      (v) =>
        `${v.source} holds a long-lived Anthropic token (expires ${new Date(v.expiresAt!).toISOString().slice(0, 10)}, likely \`claude setup-token\`): ` +
        'it outlives the Claude Code login, so oauth-sync refuses to replace it until you set "replaceNewer": true on that target or run `oauth-sync sync --force` once; keep it and you need no sync at all',
    );
}
