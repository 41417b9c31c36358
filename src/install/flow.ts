/**
 * `install` from start to end: the places checked before anything changes, the config there read and migrated, which
 * way the versions go, the config chosen (prepared, or detected and merged), the files and units, the clean-up of
 * strays, and the final status. Returns an outcome; the command turns it into an exit code (src/commands/install.ts).
 */
import type { CommandNode } from "../completion/tree.ts";
import { homedir } from "node:os";
import { parseConfig } from "../config/load.ts";
import { configSchema, type Config } from "../config/schema.ts";
import { mayBeLeftOut } from "../config/schema-walk.ts";
import { migrateConfig } from "../config/migrate.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { ownDirPathProblem, readOwnFile } from "../fs/place.ts";
import { MAX_BYTES } from "../fs/open-file.ts";
import { logger, print } from "../log/logger.ts";
import { registerWebhookSecrets } from "../notify/send.ts";
import type { ProcessRunner } from "../process/run.ts";
import { BUILD } from "../version.ts";
import { completionAdvice, completionPaths, installCompletion, installedShells, type Shell } from "./completion.ts";
import { install, placesProblem } from "./install.ts";
import { liveTriggerTest } from "./live-test.ts";
import { installedBuild, installLayout, readManifest, type InstallLayout } from "./plan.ts";
import { removeStray } from "./strays.ts";
import { compareBuilds, recordOf } from "./versions.ts";
import { detectedConfig, finalVerification, lingerAdvice, readPrepared, type Asker, type ExistingConfig, type WizardArgs } from "./wizard.ts";

/** How `install` ended: ok (0), refused (2: an answer or the config is missing or wrong), failed (8), unhealthy (9). */
export type InstallOutcome = "ok" | "refused" | "failed" | "unhealthy";

export interface InstallArgs extends WizardArgs {
  config?: string;
  user?: boolean;
  "config-path"?: string;
  "bin-dir"?: string;
  test?: boolean;
  completion?: boolean;
  downgrade?: boolean;
}

export interface FlowDeps {
  run: ProcessRunner;
  execPath: string;
  /** A terminal to ask on (absent with --yes or without one). */
  ask?: Asker;
  /** What the chosen config needs of this machine (the command's pre-flight: Docker for a compose gateway…). */
  checkConfig?: (config: Config) => Promise<void>;
  /** The command tree shell completion is generated from (the CLI's own: install/ does not import it). */
  completionTree: () => Promise<CommandNode>;
}

export async function runInstall(args: InstallArgs, deps: FlowDeps): Promise<InstallOutcome> {
  const layout = installLayout({ user: args.user, configPath: args["config-path"], binDir: args["bin-dir"] });
  const dryRun = Boolean(args["dry-run"]);
  const unsafe = placesProblem(layout);
  if (unsafe) return fail(`install: ${unsafe}`, "failed");

  const existing = readExisting(layout.configPath, Boolean(args.reconfigure || args.config));
  if (!existing.ok) return fail(existing.message, existing.outcome);
  for (const note of existing.config?.notes ?? []) logger.warn(`${layout.configPath}: ${note}`);
  // The config there is shown merged before it is parsed: its webhook URLs (secrets) are hidden from the start.
  registerWebhookSecrets(webhooksIn(existing.config?.raw));

  const manifest = readManifest(layout.manifest);
  const installed = installedBuild(manifest);
  const step = compareBuilds(installed, recordOf(BUILD));
  if (step.kind !== "same") print(step.line);
  if (step.kind === "downgrade") {
    logger.warn(`a downgrade runs an older oauth-sync against a config and state this build wrote: read the older release's notes first (docs/TROUBLESHOOTING.md, "Upgrading")`);
    if (!args.downgrade) {
      if (!deps.ask || args.yes) return fail(`not downgrading ${installed?.version} → ${BUILD.version} without --downgrade`, "refused");
      if (!(await deps.ask.confirm("Downgrade anyway?", false))) return fail("not downgraded: nothing was changed", "refused");
    }
  }

  const chosen = args.config ? await prepared(args.config, existing.config) : await detectedConfig(args, existing.config, layout, deps.ask);
  if (!chosen.ok) return fail(chosen.message, chosen.outcome);
  const parsed = parseConfig(chosen.text, layout.configPath);
  if (!parsed.ok) {
    for (const error of parsed.errors) logger.error(error.replace(layout.configPath, args.config ?? "the config to install"));
    return "refused";
  }
  const stateProblem = ownDirPathProblem(parsed.config.stateDir);
  if (stateProblem) return fail(`install: state directory: ${stateProblem}`, "failed");
  registerWebhookSecrets(parsed.config.notify.webhooks); // a dry run prints the config: its webhook URLs stay hidden
  await deps.checkConfig?.(parsed.config);

  const backup = chosen.backup && existing.config ? `${layout.configPath}.${new Date().toISOString().replace(/[:.]/g, "-")}.bak` : undefined;
  if (backup && dryRun) print(`would keep the config there as ${backup}`);
  if (backup && !dryRun) {
    await writeFileAtomic(backup, existing.config!.text, { newFileMode: 0o600 });
    print(`kept the config that was there as ${backup}`);
  }
  const record = { version: BUILD.version, build: recordOf(BUILD), ...(installed && step.kind !== "same" ? { previous: installed } : manifest?.previous ? { previous: manifest.previous } : {}), installedAt: new Date().toISOString() };
  let result;
  try {
    result = await install(parsed.config, chosen.text, layout, { run: deps.run, execPath: deps.execPath, dryRun }, record);
  } catch (error) {
    return fail(`install failed: ${(error as Error).message}`, "failed");
  }
  if (!result.ok) return fail(`install failed: ${result.error}`, "failed");
  for (const stray of chosen.strays) {
    if (dryRun) continue;
    let removed: boolean | string;
    try {
      removed = removeStray(stray);
    } catch (error) {
      removed = (error as Error).message;
    }
    if (removed === true) result.changed.push(`removed ${stray.root}`);
    else logger.warn(`${stray.root} was not removed (${removed === false ? "it holds more than oauth-sync's token copy now" : removed}): look at it by hand`);
  }

  const completionFiles = pick(completionPaths(layout.user, homedir()), installedShells());
  const completion = args.completion ? await installCompletion(await deps.completionTree(), completionFiles, dryRun) : [];
  if (dryRun) {
    for (const path of completion) print(`would write shell completion ${path}`);
    return "ok";
  }
  result.changed.push(...completion);
  if (layout.user) await lingerAdvice();
  if (args.test !== false) {
    const live = await liveTriggerTest(parsed.config, deps.run);
    if (live.ok) print(live.lines);
    else for (const line of live.lines) logger.warn(line);
  }
  print(result.changed.length ? `installed; changed: ${result.changed.join(", ")}` : "already installed; nothing changed");
  if (result.restarted.length) print(`restarted: ${result.restarted.join(", ")}`);
  const health = await finalVerification(parsed.config, layout);
  if (!args.completion) print("shell completion: install --completion, or `oauth-sync completion bash|zsh|fish`");
  else for (const advice of completionAdvice(layout.user, completionFiles)) print(advice);
  for (const line of hints(layout)) print(line);
  if (!health.healthy) {
    logger.error(`installed, but not healthy yet: ${health.problems[0] ?? "see above"}`);
    for (const line of nextSteps(layout)) print(line);
    return "unhealthy";
  }
  return "ok";
}

function fail(message: string, outcome: Exclude<InstallOutcome, "ok">): InstallOutcome {
  logger.error(message);
  return outcome;
}

const pick = (paths: Record<Shell, string>, shells: Shell[]) => Object.fromEntries(shells.map((s) => [s, paths[s]]));

/** The commands to watch this installation, in the form its manager needs (`--user` for a user install). */
export function hints(layout: InstallLayout): string[] {
  const config = layout.configPath === installLayout({ user: layout.user }).configPath ? "" : ` --config ${layout.configPath}`;
  if (layout.user) return [`watch it: systemctl --user status oauth-sync · journalctl --user -u oauth-sync -f · oauth-sync status${config}`];
  return [`watch it: systemctl status oauth-sync · journalctl -u oauth-sync -f · sudo oauth-sync status${config}`];
}

/** What to do when the final status is not healthy (exit 9). */
export function nextSteps(layout: InstallLayout): string[] {
  const journal = layout.user ? "journalctl --user -u oauth-sync -n 50" : "journalctl -u oauth-sync -n 50";
  const status = layout.user ? "oauth-sync status" : "sudo oauth-sync status";
  return [
    `next: \`${journal}\` shows what the service did; fix the problem named above (docs/TROUBLESHOOTING.md has each message),`,
    `      then \`${status}\` until it says healthy. Re-running install is safe: it changes only what differs.`,
  ];
}

type Existing = { ok: true; config?: ExistingConfig } | { ok: false; outcome: "refused" | "failed"; message: string };

/** The config at the install's path: absent, or read as this process's own file (never a FIFO, a link, another's). */
function readExisting(path: string, replacing: boolean): Existing {
  const read = readOwnFile(path, MAX_BYTES.config);
  if (!read.ok) {
    if (read.code === "ENOENT") return { ok: true };
    return { ok: false, outcome: "failed", message: `install: ${read.message}: not touched` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(read.text);
  } catch (error) {
    if (replacing) return { ok: true, config: { text: read.text, raw: {}, notes: [] } };
    return { ok: false, outcome: "refused", message: `${path} is not valid JSON (${(error as Error).message}): fix it, or pass --reconfigure to start from detection (it is kept beside as a backup)` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    if (replacing) return { ok: true, config: { text: read.text, raw: {}, notes: [] } };
    return { ok: false, outcome: "refused", message: `${path} does not hold a JSON object: fix it, or pass --reconfigure` };
  }
  const migrated = migrateConfig(raw as Record<string, unknown>, { hasDefault: (where) => mayBeLeftOut(configSchema, raw, where) });
  return { ok: true, config: { text: read.text, raw: migrated.raw, notes: migrated.notes } };
}

/** A prepared config is installed as it is; a different config there is kept beside it (whatever it said). */
async function prepared(path: string, existing: ExistingConfig | undefined) {
  const read = await readPrepared(path);
  if (!read.ok) return read;
  return { ok: true as const, text: read.text, strays: [], backup: existing !== undefined && existing.text !== read.text };
}

/** The webhooks a raw config lists (whatever else is wrong with it), for the redactor. */
function webhooksIn(raw: Record<string, unknown> | undefined): Array<{ url: string; format: "slack" }> {
  const notify = raw?.notify as { webhooks?: unknown } | undefined;
  const list = Array.isArray(notify?.webhooks) ? notify.webhooks : [];
  return list.flatMap((w) => (typeof w === "object" && w !== null && typeof (w as { url?: unknown }).url === "string" ? [{ url: (w as { url: string }).url, format: "slack" as const }] : []));
}
