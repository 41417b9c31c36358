/**
 * The steps of `install` around the installation itself: detection and the choices where more than one candidate
 * was found, the Anthropic model settings, the proposed config confirmed, and after installing the linger advice and
 * the final verification.
 */
import { MAX_BYTES, readTextIfRegular } from "../fs/open-file.ts";
import { readOwnFile } from "../fs/place.ts";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { EXIT, ExitError } from "../exit-codes.ts";
import { logger, print } from "../log/logger.ts";
import { minimalEnv, runProcess } from "../process/run.ts";
import { settlingFlag } from "./choose.ts";
import { detect, formatDetection, type Detection } from "./detect.ts";
import { applyModelConfig, findTraps, type Trap } from "./model-config.ts";
import type { InstallLayout } from "./plan.ts";
import { askOpenClaw, longLivedWarnings } from "./openclaw-report.ts";
import { addNanoClaw, proposeConfig, proposeNanoClawConfig } from "./propose.ts";
import { parseConfig } from "../config/load.ts";
import { formatStatus, gatherStatus } from "./status.ts";

export async function readPrepared(path: string): Promise<string> {
  const read = readOwnFile(path, MAX_BYTES.config);
  if (read.ok) return read.text;
  logger.error(`cannot read ${path}: ${read.message}`);
  throw new ExitError(EXIT.misconfigured);
}

/** Detection → a proposed config, shown with where each finding came from; confirmed unless --yes. */
export async function detectedConfig(args: Record<string, unknown>): Promise<string> {
  const detection = await detect(
    "/",
    { credentials: args.credentials as string, openclawDir: args["openclaw-dir"] as string, projectDir: args["project-dir"] as string, release: args.release as string },
    { run: runProcess, now: Date.now(), cwd: process.cwd() },
  );
  // Lines that name agents and paths someone else chose: each printed as one line, whatever it holds.
  print(formatDetection(detection));
  if (!args.yes && process.stdin.isTTY) await chooseInteractively(detection);
  else if (detection.tie) {
    const [a, b] = detection.ranked;
    logger.error(`two OpenClaw installs are equally likely (${a!.found.value.stateDir}, ${b!.found.value.stateDir}; score ${a!.score}): pass ${settlingFlag(a!.found.value)} or ${settlingFlag(b!.found.value)}`);
    throw new ExitError(EXIT.misconfigured);
  }
  const nanoclaw = detection.nanoclaw.map((n) => n.value);
  if (!detection.login || (!detection.install && !nanoclaw.length)) {
    logger.error("cannot propose a config without a Claude login and an OpenClaw (or NanoClaw) install: pass the flags above, or --config FILE");
    throw new ExitError(EXIT.misconfigured);
  }
  if (detection.install && !detection.install.value.stateDir) {
    logger.error(`cannot read ${detection.install.source}: fix the compose project (\`docker compose config\` in its directory shows the same), or pass --openclaw-dir`);
    throw new ExitError(EXIT.misconfigured);
  }
  const found = { claudeOnHost: detection.claudeOnHost, containers: detection.containers.map((c) => c.value) };
  const proposal = detection.install
    ? addNanoClaw(proposeConfig(detection.install.value, detection.login.value, { ...found, gatewayUnit: detection.gatewayUnit, userGatewayUnits: detection.gatewayUnits.map((u) => u.value) }), nanoclaw)
    : proposeNanoClawConfig(nanoclaw, detection.login.value, found);
  if (!(proposal.config.targets as unknown[]).length) {
    for (const note of proposal.notes) logger.warn(note);
    logger.error(`nothing to install: no agent of this ${detection.install ? "OpenClaw" : "NanoClaw"} needs its token copied`);
    throw new ExitError(EXIT.misconfigured);
  }
  applyAnswers(proposal.config, args);
  for (const note of proposal.notes) logger.warn(note);
  await longLivedStep(proposal.config);
  if (detection.install) await modelConfigStep(join(detection.install.value.stateDir, "openclaw.json"), args);
  const text = `${JSON.stringify(proposal.config, null, 2)}\n`;
  print(`config to install:\n${text}`);
  if (!args.yes) {
    if (!process.stdin.isTTY) {
      logger.error("no terminal to ask on: re-run with --yes to accept, or --config FILE");
      throw new ExitError(EXIT.misconfigured);
    }
    const ok = await logger.prompt("Install with this config?", { type: "confirm", initial: true, cancel: "null" });
    if (ok !== true) throw new ExitError(EXIT.misconfigured);
  }
  return text;
}

/** Ask OpenClaw what it holds now (read-only): a long-lived token is reported with what it means. */
async function longLivedStep(config: Record<string, unknown>) {
  const parsed = parseConfig(JSON.stringify({ ...config, stateDir: "/nonexistent" }), "/etc/oauth-sync/config.json");
  if (!parsed.ok) return;
  for (const line of longLivedWarnings(await askOpenClaw(parsed.config, runProcess), Date.now())) logger.warn(line);
}

/** Anthropic model settings in openclaw.json: traps reported always, changed only with consent (a flag or a yes). */
async function modelConfigStep(path: string, args: Record<string, unknown>) {
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
  if (!consent && traps.length && !args.yes && process.stdin.isTTY) {
    consent = (await logger.prompt(`Fix ${traps.length} problem(s) in ${path}?`, { type: "confirm", initial: true, cancel: "null" })) === true;
  }
  if (!consent) return;
  if (args["dry-run"]) return print(`would fix the model settings in ${path}${args.model ? ` and set the primary model to ${args.model}` : ""}`);
  const result = await applyModelConfig(path, { primaryModel: args.model as string | undefined });
  if (result.changed) logger.success(`updated ${path}${result.note ? ` (${result.note})` : ""}`);
}

/** User units stop with the user's last session unless lingering is on: say so, with the command. */
export async function lingerAdvice() {
  const user = process.env.USER || process.env.LOGNAME || (await runProcess(["id", "-un"], { env: minimalEnv(), timeoutMs: 5000 })).stdout.trim();
  const linger = await runProcess(["loginctl", "show-user", user, "-p", "Linger", "--value"], { env: minimalEnv(), timeoutMs: 5000 });
  if (linger.stdout.trim() !== "yes") logger.warn(`lingering is off for ${user}: the units stop when ${user} logs out. Turn it on: \`sudo loginctl enable-linger ${user}\``);
}

/** The wizard's choices where detection found more than one candidate: which login to follow, which OpenClaw. */
async function chooseInteractively(detection: Detection) {
  if (detection.logins.length > 1) {
    const path = await logger.prompt("Which Claude Code login should OpenClaw follow?", {
      type: "select",
      options: detection.logins.map((l) => ({ value: l.value.path, label: l.value.path, hint: l.value.problem ? "unusable" : `token ${l.value.fingerprint}` })),
      initial: detection.login?.value.path,
      cancel: "null",
    });
    detection.login = detection.logins.find((l) => l.value.path === path) ?? detection.login;
  }
  if (detection.installs.length > 1) {
    const dir = await logger.prompt("Which OpenClaw?", {
      type: "select",
      options: detection.installs.map((i) => ({ value: i.value.stateDir, label: `${i.value.kind} ${i.value.stateDir}`, hint: i.value.release ?? "release unknown" })),
      initial: detection.install?.value.stateDir,
      cancel: "null",
    });
    detection.install = detection.installs.find((i) => i.value.stateDir === dir) ?? detection.install;
  }
}

/** The last step: wait briefly for the service's first pass, then show what `status` shows. */
export async function finalVerification(config: Config, layout: InstallLayout): Promise<boolean> {
  const deps = { run: runProcess, now: Date.now(), systemctl: layout.systemctl };
  let report = await gatherStatus(config, deps);
  for (let i = 0; i < 20 && !report.healthy; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    report = await gatherStatus(config, { ...deps, now: Date.now() });
  }
  print(formatStatus(report));
  return report.healthy;
}

/** Flags that answer the wizard's questions about the trigger and the gateway service win over the proposal. */
function applyAnswers(config: Record<string, unknown>, args: Record<string, unknown>) {
  if (args.trigger === "host" || args.trigger === "none") config.trigger = { mode: args.trigger };
  if (args.trigger === "container" || args.container) {
    if (!args.container) {
      logger.error("--trigger container needs --container NAME");
      throw new ExitError(EXIT.misconfigured);
    }
    config.trigger = { mode: "container", container: args.container };
  }
  const gateway = config.gateway as Record<string, unknown>;
  if (args.service && gateway.kind === "compose") gateway.service = args.service;
}
