/**
 * The steps of `install` before anything is written: detection and the choices where more than one candidate was
 * found, the pairing of a login with an OpenClaw (never across users without a word), the Anthropic model settings,
 * and the config: proposed fresh, or merged into the one already there (src/install/upgrade.ts) and confirmed.
 * Every refusal is returned as an outcome; the command turns it into an exit code.
 */
import { MAX_BYTES, readTextIfRegular } from "../fs/open-file.ts";
import { readOwnFile } from "../fs/place.ts";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { parseConfig } from "../config/load.ts";
import { logger, print } from "../log/logger.ts";
import { minimalEnv, runProcess } from "../process/run.ts";
import { loadAccounts } from "../users/accounts.ts";
import { settlingFlag } from "../detect/choose.ts";
import { detect, formatDetection, type Detection } from "../detect/detect.ts";
import { applyModelConfig, findTraps, type Trap } from "./model-config.ts";
import type { InstallLayout } from "./plan.ts";
import { askOpenClaw, longLivedWarnings } from "../detect/openclaw-report.ts";
import { installUser, loginUser } from "../detect/pairing.ts";
import { addNanoClaw, MANY_AGENTS, proposeConfig, proposeNanoClawConfig } from "./propose.ts";
import { formatStatus, gatherStatus } from "./status.ts";
import { strayOf, type Stray } from "./strays.ts";
import { applyUpgrade, formatPlan, planUpgrade, short, type Json, type UpgradeChoices } from "./upgrade.ts";

/** Questions for a person at a terminal; absent with --yes or without a terminal. */
export interface Asker {
  confirm(question: string, initial: boolean): Promise<boolean>;
  select(question: string, options: Array<{ value: string; label: string; hint?: string }>, initial?: string): Promise<string | undefined>;
}

/** The terminal's asker (consola's prompts); a cancelled prompt answers no. */
export const terminalAsker: Asker = {
  async confirm(question, initial) {
    return (await logger.prompt(question, { type: "confirm", initial, cancel: "null" })) === true;
  },
  async select(question, options, initial) {
    const answer = await logger.prompt(question, { type: "select", options, initial, cancel: "null" });
    return typeof answer === "string" ? answer : undefined;
  },
};

/** Why install stops before writing: `refused` (an answer or a flag is missing: exit 2) or `failed` (exit 8). */
export interface Refusal {
  ok: false;
  outcome: "refused" | "failed";
  message: string;
}
const refuse = (message: string, outcome: Refusal["outcome"] = "refused"): Refusal => ({ ok: false, outcome, message });

export interface WizardArgs {
  yes?: boolean;
  credentials?: string;
  "openclaw-dir"?: string;
  "project-dir"?: string;
  release?: string;
  trigger?: string;
  container?: string;
  service?: string;
  model?: string;
  "fix-model-config"?: boolean;
  "dry-run"?: boolean;
  reconfigure?: boolean;
  prune?: boolean;
  "cross-user"?: boolean;
  "max-agents"?: string;
}

/** The config already in place, read as its own (a FIFO or another user's file is refused), migrated. */
export interface ExistingConfig {
  text: string;
  raw: Json;
  notes: string[];
}

export interface Chosen {
  ok: true;
  text: string;
  /** Token copies in trees only oauth-sync wrote, whose targets were dropped: removed once the new config is in. */
  strays: Stray[];
  /** The config there is being replaced or changed beyond additions: it is kept beside as a backup. */
  backup: boolean;
}

export async function readPrepared(path: string): Promise<{ ok: true; text: string } | Refusal> {
  const read = readOwnFile(path, MAX_BYTES.config);
  return read.ok ? read : refuse(`cannot read ${path}: ${read.message}`);
}

/** Detection → a proposal, shown with where each finding came from; merged into the config there; confirmed. */
export async function detectedConfig(args: WizardArgs, existing: ExistingConfig | undefined, layout: InstallLayout, ask?: Asker): Promise<Chosen | Refusal> {
  // Before detection: a receiver has no Claude login, and the service this would install cannot run its config.
  if (existing?.raw.source === "push" && !args.reconfigure) {
    return refuse(`${layout.configPath} is a receiving host's config ("source": "push"): upgrade it with \`oauth-sync install --receiver\`, or pass --reconfigure to make this host the source`);
  }
  const proposed = await propose(args, layout, ask);
  if (!proposed.ok) {
    // --reconfigure starts from detection: with nothing detected there is nothing to start from.
    if (!existing || args.reconfigure) return proposed;
    // An upgrade needs no detection: the config there stays as it is.
    logger.warn(`${proposed.message}: detection proposes nothing, so ${layout.configPath} stays as it is`);
    return confirmText(args, `${JSON.stringify(existing.raw, null, 2)}\n`, [], false, ask);
  }
  const proposal = proposed.config;
  if (!existing) return confirmText(args, `${JSON.stringify(proposal, null, 2)}\n`, [], false, ask);
  if (args.reconfigure) {
    const plan = planUpgrade(existing.raw, proposal);
    print(`--reconfigure: the config starts from detection; ${layout.configPath} as it is now is kept beside it as a backup.`);
    for (const line of formatPlan(plan, layout.configPath).slice(1)) print(line.replace("  = kept as you wrote them:", "  - dropped (in the backup):"));
    return confirmText(args, `${JSON.stringify(proposal, null, 2)}\n`, [], true, ask);
  }
  const plan = planUpgrade(existing.raw, proposal);
  for (const line of formatPlan(plan, layout.configPath)) print(line);
  const strays = new Map(plan.stale.map((s) => [s.id, strayOf(s.target as { kind: string; path?: string })]));
  // A flag on this command line is the operator's word of now: it wins over what the file says.
  const choices: UpgradeChoices = { take: new Set(plan.corrections.filter((c) => settledByFlag(c.path, args)).map((c) => c.path)), drop: new Set() };
  for (const path of choices.take) print(`  ~ ${path}: taken from the command line`);
  if (args.prune) for (const s of plan.stale) choices.drop.add(s.id);
  if (ask) {
    for (const c of plan.corrections) if (!choices.take.has(c.path) && await ask.confirm(`Take detection's ${c.path} (${short(c.detected)}) instead of yours (${short(c.yours)})?`, false)) choices.take.add(c.path);
    for (const s of plan.stale) {
      if (choices.drop.has(s.id)) continue;
      const stray = strays.get(s.id);
      const also = stray ? `, and remove ${stray.root} (it holds only a token copy oauth-sync wrote, which no OpenClaw reads)` : "";
      if (await ask.confirm(`Drop target ${s.id}, which detection no longer finds${also}?`, Boolean(stray))) choices.drop.add(s.id);
    }
  } else {
    const kept = plan.corrections.filter((c) => !choices.take.has(c.path)).length + plan.stale.filter((s) => !choices.drop.has(s.id)).length;
    if (kept) logger.warn(`kept what you wrote where detection differs (${kept}): answer in a terminal, --prune to drop targets detection no longer finds, or --reconfigure to start from detection`);
  }
  for (const s of plan.stale) {
    const stray = strays.get(s.id);
    if (stray && !choices.drop.has(s.id)) logger.warn(`target ${s.id} writes a token copy into ${stray.root}, which holds nothing else and no OpenClaw reads (an earlier release's path): --prune drops it and removes that directory`);
  }
  const merged = applyUpgrade(existing.raw, proposal, plan, choices);
  const removed = plan.stale.filter((s) => choices.drop.has(s.id)).flatMap((s) => (strays.get(s.id) ? [strays.get(s.id)!] : []));
  // A drop or a correction taken changes what the operator wrote: their file is kept beside it.
  return confirmText(args, `${JSON.stringify(merged, null, 2)}\n`, removed, choices.drop.size + choices.take.size > 0, ask);
}

async function confirmText(args: WizardArgs, text: string, strays: Stray[], backup: boolean, ask?: Asker): Promise<Chosen | Refusal> {
  print(`config to install:\n${text}`);
  for (const stray of strays) print(`${args["dry-run"] ? "would remove" : "to remove"}: ${stray.root} (a token copy only oauth-sync wrote)`);
  if (!args.yes) {
    if (!ask) return refuse("no terminal to ask on: re-run with --yes to accept, or --config FILE");
    if (!(await ask.confirm("Install with this config?", true))) return refuse("not confirmed: nothing was changed");
  }
  return { ok: true, text, strays, backup };
}

/** Detection, the choices and the pairing → the proposed config (with the flags' answers in it). */
async function propose(args: WizardArgs, layout: InstallLayout, ask?: Asker): Promise<{ ok: true; config: Json } | Refusal> {
  const detection = await detect(
    "/",
    { credentials: args.credentials, openclawDir: args["openclaw-dir"], projectDir: args["project-dir"], release: args.release },
    { run: runProcess, now: Date.now(), cwd: process.cwd() },
  );
  // Lines that name agents and paths someone else chose: each printed as one line, whatever it holds.
  print(formatDetection(detection));
  if (ask) await chooseInteractively(detection, ask, { login: Boolean(args.credentials), install: Boolean(args["openclaw-dir"] || args["project-dir"]) });
  else if (detection.tie) {
    const [a, b] = detection.ranked;
    return refuse(`two OpenClaw installs are equally likely (${a!.found.value.stateDir}, ${b!.found.value.stateDir}; score ${a!.score}): pass ${settlingFlag(a!.found.value)} or ${settlingFlag(b!.found.value)}`);
  }
  const { login, install } = detection;
  const nanoclaw = detection.nanoclaw.map((n) => n.value);
  if (!login || (!install && !nanoclaw.length)) return refuse("cannot propose a config without a Claude login and an OpenClaw (or NanoClaw) install: pass the flags above, or --config FILE");
  if (install && !install.value.stateDir) {
    return refuse(`${install.value.problems?.join("; ") || `cannot read ${install.source}`}: fix the compose project (\`docker compose config\` in its directory shows the same), or pass --openclaw-dir`);
  }
  if (install) {
    const passwd = loadAccounts().passwd;
    const [from, to] = [loginUser(login.value, passwd), installUser(install.value, passwd)];
    if (from !== to && !args["cross-user"]) {
      const what = `the Claude login ${login.value.path} is ${from}'s and the OpenClaw ${install.value.stateDir} is ${to}'s: ${from}'s subscription would serve ${to}'s agents`;
      if (!ask) return refuse(`${what}. Pair them only on purpose: pass --cross-user (or answer in a terminal), or name the right one with --credentials / --openclaw-dir`);
      if (!(await ask.confirm(`${what}. Pair them anyway?`, false))) return refuse("not paired across users: nothing was changed");
    }
  }
  const found = { claudeOnHost: detection.claudeOnHost, containers: detection.containers.map((c) => c.value) };
  const proposal = install
    ? addNanoClaw(
        proposeConfig(install.value, login.value, {
          ...found,
          gatewayUnit: detection.gatewayUnit,
          userGatewayUnits: detection.gatewayUnits.map((u) => u.value),
          maxAgents: await agentCap(args, install.value, ask),
          selfUid: process.geteuid?.() ?? 0,
        }),
        nanoclaw,
      )
    : proposeNanoClawConfig(nanoclaw, login.value, found);
  if (!(proposal.config.targets as unknown[]).length) {
    for (const note of proposal.notes) logger.warn(note);
    return refuse(`nothing to install: no agent of this ${install ? "OpenClaw" : "NanoClaw"} needs its token copied`);
  }
  const answered = applyAnswers(proposal.config, args);
  if (answered) return answered;
  for (const note of proposal.notes) logger.warn(note);
  await longLivedStep(proposal.config);
  if (install) await modelConfigStep(join(install.value.stateDir, "openclaw.json"), args, ask);
  return { ok: true, config: proposal.config };
}

/** How many agents to propose from an `agents/` someone else owns: --max-agents, a person's answer, or a handful. */
async function agentCap(args: WizardArgs, install: { agents: string[]; agentsOwner?: number }, ask?: Asker): Promise<number> {
  const flag = Number(args["max-agents"]);
  if (args["max-agents"] !== undefined && Number.isInteger(flag) && flag > 0) return flag;
  const self = process.geteuid?.() ?? 0;
  const foreign = install.agentsOwner !== undefined && install.agentsOwner !== 0 && install.agentsOwner !== self;
  if (!foreign || install.agents.length <= MANY_AGENTS || !ask) return MANY_AGENTS;
  const all = await ask.confirm(`${install.agents.length} agents, in a directory uid ${install.agentsOwner} owns (each gets a target, synced as that user). Propose all of them?`, false);
  return all ? install.agents.length : MANY_AGENTS;
}

/** Ask OpenClaw what it holds now (read-only): a long-lived token is reported with what it means. */
async function longLivedStep(config: Record<string, unknown>) {
  const parsed = parseConfig(JSON.stringify({ ...config, stateDir: "/nonexistent" }), "/etc/oauth-sync/config.json");
  if (!parsed.ok) return;
  for (const line of longLivedWarnings(await askOpenClaw(parsed.config, runProcess), Date.now())) logger.warn(line);
}

/** Anthropic model settings in openclaw.json: traps reported always, changed only with consent (a flag or a yes). */
async function modelConfigStep(path: string, args: WizardArgs, ask?: Asker) {
  const text = readTextIfRegular(path);
  if (text === undefined) return;
  let traps: Trap[];
  try {
    traps = findTraps(Bun.JSON5.parse(text) as Record<string, unknown>);
  } catch {
    logger.warn(`${path} does not parse: its model settings were not checked`);
    return;
  }
  for (const trap of traps) logger.warn(`${path}: ${trap.problem}; fix: ${trap.fix}`);
  let consent = Boolean(args["fix-model-config"] || args.model);
  if (!consent && traps.length && ask) consent = await ask.confirm(`Fix ${traps.length} problem(s) in ${path}?`, true);
  if (!consent) return;
  if (args["dry-run"]) return print(`would fix the model settings in ${path}${args.model ? ` and set the primary model to ${args.model}` : ""}`);
  const result = await applyModelConfig(path, { primaryModel: args.model });
  if (result.changed) logger.success(`updated ${path}${result.note ? ` (${result.note})` : ""}`);
}

/** User units stop with the user's last session unless lingering is on: say so, with the command. */
export async function lingerAdvice() {
  const user = process.env.USER || process.env.LOGNAME || (await runProcess(["id", "-un"], { env: minimalEnv(), timeoutMs: 5000 })).stdout.trim();
  const linger = await runProcess(["loginctl", "show-user", user, "-p", "Linger", "--value"], { env: minimalEnv(), timeoutMs: 5000 });
  if (linger.stdout.trim() !== "yes") logger.warn(`lingering is off for ${user}: the units stop when ${user} logs out. Turn it on: \`sudo loginctl enable-linger ${user}\``);
}

/** The wizard's choices where detection found more than one candidate: which login to follow, which OpenClaw. */
async function chooseInteractively(detection: Detection, ask: Asker, given: { login: boolean; install: boolean }) {
  if (detection.logins.length > 1 && !given.login) {
    const options = detection.logins.map((l) => ({ value: l.value.path, label: l.value.path, hint: l.value.problem ? "unusable" : `token ${l.value.fingerprint}` }));
    const path = await ask.select("Which Claude Code login should OpenClaw follow?", options, detection.login?.value.path);
    detection.login = detection.logins.find((l) => l.value.path === path) ?? detection.login;
  }
  if (detection.installs.length > 1 && !given.install) {
    const options = detection.installs.map((i) => ({ value: i.value.stateDir, label: `${i.value.kind} ${i.value.stateDir}`, hint: i.value.release ?? "release unknown" }));
    const dir = await ask.select("Which OpenClaw?", options, detection.install?.value.stateDir);
    detection.install = detection.installs.find((i) => i.value.stateDir === dir) ?? detection.install;
  }
}

/** The last step: wait briefly for the service's first pass, then show what `status` shows. */
export async function finalVerification(config: Config, layout: InstallLayout): Promise<{ healthy: boolean; problems: string[] }> {
  const deps = { run: runProcess, now: Date.now(), systemctl: layout.systemctl };
  let report = await gatherStatus(config, deps);
  for (let i = 0; i < 20 && !report.healthy; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    report = await gatherStatus(config, { ...deps, now: Date.now() });
  }
  print(formatStatus(report));
  return { healthy: report.healthy, problems: report.problems };
}

/** Does a flag given now settle this correction (a path of planUpgrade's: `trigger`, `gateway.service`, …)? */
function settledByFlag(path: string, args: WizardArgs): boolean {
  const under = (key: string) => path === key || path.startsWith(`${key}.`);
  if (under("credentials")) return Boolean(args.credentials);
  if (under("trigger")) return Boolean(args.trigger || args.container);
  if (under("gateway")) return Boolean(args["project-dir"] || args["openclaw-dir"] || (args.service && (path === "gateway" || path === "gateway.service")));
  return false;
}

/** Flags that answer the wizard's questions about the trigger and the gateway service win over the proposal. */
function applyAnswers(config: Record<string, unknown>, args: WizardArgs): Refusal | undefined {
  if (args.container && args.trigger && args.trigger !== "container") return refuse(`--container goes with --trigger container, not --trigger ${args.trigger}`);
  if (args.trigger === "host" || args.trigger === "none") config.trigger = { mode: args.trigger };
  if (args.trigger === "container" || args.container) {
    if (!args.container) return refuse("--trigger container needs --container NAME");
    config.trigger = { mode: "container", container: args.container };
  }
  const gateway = config.gateway as Record<string, unknown>;
  if (args.service && gateway.kind === "compose") gateway.service = args.service;
  return undefined;
}
