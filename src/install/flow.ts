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
import { install, placesProblem, type InstallResult } from "./install.ts";
import { liveTriggerTest } from "./live-test.ts";
import { installedBuild, installLayout, readManifest, type InstallLayout } from "./plan.ts";
import { removeStray, type Stray } from "./strays.ts";
import { compareBuilds, recordOf, type RecordedBuild } from "./versions.ts";
import { detectedConfig, finalVerification, lingerAdvice, readPrepared, type Asker, type Chosen, type ExistingConfig, type WizardArgs } from "./wizard.ts";

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

/** What install.ts did: the files it changed and the units it restarted. */
type Installed = Extract<InstallResult, { ok: true }>;

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
  const dryRun = Boolean(args["dry-run"]);
  const place = readPlace(args);
  if (ended(place)) return place;
  const { layout, existing } = place;
  const versions = await weighVersions(args, deps, layout);
  if (ended(versions)) return versions;
  const chosen = await chooseConfig(args, deps, layout, existing);
  if (ended(chosen)) return chosen;
  await keepBackup(chosen.backup ? existing : undefined, layout, dryRun);
  const result = await writeInstall(chosen, layout, versions.previous, deps, dryRun);
  if (ended(result)) return result;
  if (!dryRun) removeStrays(chosen.strays, result.changed);
  const completion = await writeCompletion(args, deps, layout, dryRun);
  if (dryRun) {
    for (const path of completion.written) print(`would write shell completion ${path}`);
    return "ok";
  }
  result.changed.push(...completion.written);
  return reportInstalled(args, deps, layout, chosen.config, result, completion.files);
}

/** A step's early end: the outcome the install ends with, already said. */
const ended = (step: object | InstallOutcome): step is InstallOutcome => typeof step === "string";

/** Where this install goes, each place checked before anything changes, and the config already there (read, migrated). */
function readPlace(args: InstallArgs): { layout: InstallLayout; existing?: ExistingConfig } | InstallOutcome {
  const layout = installLayout({ user: args.user, configPath: args["config-path"], binDir: args["bin-dir"] });
  const unsafe = placesProblem(layout);
  if (unsafe) return fail(`install: ${unsafe}`, "failed");
  const existing = readExisting(layout.configPath, Boolean(args.reconfigure || args.config));
  if (!existing.ok) return fail(existing.message, existing.outcome);
  for (const note of existing.config?.notes ?? []) logger.warn(`${layout.configPath}: ${note}`);
  // The config there is shown merged before it is parsed: its webhook URLs (secrets) are hidden from the start.
  registerWebhookSecrets(webhooksIn(existing.config?.raw));
  return { layout, existing: existing.config };
}

/**
 * Which way the versions go (said unless the build is the same): a downgrade goes on only with --downgrade or a
 * person's yes. Returns the build the manifest names as replaced: the one installed, else the one it named already.
 */
async function weighVersions(args: InstallArgs, deps: FlowDeps, layout: InstallLayout): Promise<{ previous?: RecordedBuild } | InstallOutcome> {
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
  return { previous: installed && step.kind !== "same" ? installed : manifest?.previous };
}

/** The config to install (prepared, or detected and merged with the one there), parsed, and checked against this machine. */
async function chooseConfig(args: InstallArgs, deps: FlowDeps, layout: InstallLayout, existing: ExistingConfig | undefined): Promise<(Chosen & { config: Config }) | InstallOutcome> {
  const chosen = args.config ? await prepared(args.config, existing) : await detectedConfig(args, existing, layout, deps.ask);
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
  return { ...chosen, config: parsed.config };
}

/** The config that was there, kept beside the new one under the time it was replaced (`replaced`: none to keep). */
async function keepBackup(replaced: ExistingConfig | undefined, layout: InstallLayout, dryRun: boolean): Promise<void> {
  const backup = replaced ? `${layout.configPath}.${new Date().toISOString().replace(/[:.]/g, "-")}.bak` : undefined;
  if (backup && dryRun) print(`would keep the config there as ${backup}`);
  if (backup && !dryRun) {
    await writeFileAtomic(backup, replaced!.text, { newFileMode: 0o600 });
    print(`kept the config that was there as ${backup}`);
  }
}

/** The binary, the config, the units and the manifest (install.ts), the manifest naming this build and the one it replaced. */
async function writeInstall(chosen: Chosen & { config: Config }, layout: InstallLayout, previous: RecordedBuild | undefined, deps: FlowDeps, dryRun: boolean): Promise<Installed | InstallOutcome> {
  const record = { version: BUILD.version, build: recordOf(BUILD), ...(previous ? { previous } : {}), installedAt: new Date().toISOString() };
  let result;
  try {
    result = await install(chosen.config, chosen.text, layout, { run: deps.run, execPath: deps.execPath, dryRun }, record);
  } catch (error) {
    return fail(`install failed: ${(error as Error).message}`, "failed");
  }
  if (!result.ok) return fail(`install failed: ${result.error}`, "failed");
  return result;
}

/** Token copies only oauth-sync wrote, removed once the new config is in; one that holds more now is left, and said. */
function removeStrays(strays: Stray[], changed: string[]): void {
  for (const stray of strays) {
    let removed: boolean | string;
    try {
      removed = removeStray(stray);
    } catch (error) {
      removed = (error as Error).message;
    }
    if (removed === true) changed.push(`removed ${stray.root}`);
    else logger.warn(`${stray.root} was not removed (${removed === false ? "it holds more than oauth-sync's token copy now" : removed}): look at it by hand`);
  }
}

/** Where each installed shell loads completion from, and (with --completion) the scripts written there. */
async function writeCompletion(args: InstallArgs, deps: FlowDeps, layout: InstallLayout, dryRun: boolean): Promise<{ files: Partial<Record<Shell, string>>; written: string[] }> {
  const files = pick(completionPaths(layout.user, homedir()), installedShells());
  const written = args.completion ? await installCompletion(await deps.completionTree(), files, dryRun) : [];
  return { files, written };
}

/** After the writes: the trigger tried once, what changed, the service's final status and the advice; "ok" or "unhealthy". */
async function reportInstalled(args: InstallArgs, deps: FlowDeps, layout: InstallLayout, config: Config, result: Installed, completionFiles: Partial<Record<Shell, string>>): Promise<InstallOutcome> {
  if (layout.user) await lingerAdvice();
  if (args.test !== false) await testTrigger(config, deps.run);
  print(result.changed.length ? `installed; changed: ${result.changed.join(", ")}` : "already installed; nothing changed");
  if (result.restarted.length) print(`restarted: ${result.restarted.join(", ")}`);
  const health = await finalVerification(config, layout);
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

/** The refresh trigger run once as the service will run it: what it said is shown; a failure is a warning. */
async function testTrigger(config: Config, run: ProcessRunner): Promise<void> {
  const live = await liveTriggerTest(config, run);
  if (live.ok) print(live.lines);
  else for (const line of live.lines) logger.warn(line);
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
