/**
 * Pure: `install` over an existing config. What the operator wrote stays; detection only adds what is missing and
 * proposes corrections, each shown as yours against detected. The merge is defu's (the operator's values over the
 * proposal) with two rules of ours: an array is the operator's as written (defu would concatenate), and a section
 * whose `kind`/`mode` differs is theirs whole (mixing two kinds' keys makes a config no release reads). Targets are
 * matched by what they write to (the path; an agent and where its OpenClaw runs; a host), not by position.
 */
import { createDefu } from "defu";

export type Json = Record<string, unknown>;

export interface Correction {
  /** Where, e.g. `trigger` or `targets[openclaw-cli main /opt/oc].command`. */
  path: string;
  yours: unknown;
  detected: unknown;
}

export interface StaleTarget {
  id: string;
  target: Json;
}

export interface UpgradePlan {
  /** What detection adds, in words (a target, a setting the file does not have). */
  added: string[];
  corrections: Correction[];
  /** Targets in the file that detection no longer proposes. */
  stale: StaleTarget[];
  /** Top-level settings the operator wrote that detection says nothing about (webhooks, timings): kept as they are. */
  yoursOnly: string[];
}

export interface UpgradeChoices {
  /** Correction paths to take detection's value for (the others keep the operator's). */
  take: Set<string>;
  /** Stale target ids to drop from the config. */
  drop: Set<string>;
}

/** The target kinds detection proposes, now or in an earlier release: only these can be found no longer. */
const DETECTED_KINDS: ReadonlySet<string> = new Set(["openclaw-auth-profiles", "openclaw-oauth-json", "openclaw-cli", "env-file"]);

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const discriminant = (value: Json) => (typeof value.kind === "string" ? value.kind : typeof value.mode === "string" ? value.mode : undefined);
const differentKinds = (a: unknown, b: unknown) => isObject(a) && isObject(b) && discriminant(a) !== undefined && discriminant(b) !== undefined && discriminant(a) !== discriminant(b);

/** The operator's value first; defaults from the proposal. Arrays and sections of another kind are kept whole. */
export const operatorOver = createDefu((object, key, value) => {
  const proposed = (object as Json)[key as string];
  if (Array.isArray(value) || differentKinds(value, proposed)) {
    (object as Json)[key as string] = value;
    return true;
  }
  return false;
});

/** What a target writes to: two targets with the same identity are the same target, whatever else differs. */
export function targetIdentity(t: Json): string {
  const kind = String(t.kind);
  if (kind === "ssh") return `ssh ${String(t.user ?? "root")}@${String(t.host)}:${String(t.port ?? 22)}`;
  if (kind === "openclaw-cli") return `openclaw-cli ${String(t.agent ?? "(single agent)")} ${cliWhere(t)}`;
  if (typeof t.path === "string") return `${kind} ${t.path}`;
  return `${kind} ${JSON.stringify(t.command ?? t)}`;
}

/** Where an `openclaw-cli` target's OpenClaw runs: its compose project, its container, or its user's home. */
function cliWhere(t: Json): string {
  const command = Array.isArray(t.command) ? t.command.map(String) : ["openclaw"];
  const file = command.indexOf("-f");
  if (file >= 0 && command[file + 1]) return command[file + 1]!.replace(/\/[^/]*$/, "") || "/";
  const exec = command.indexOf("exec");
  if (exec >= 0) return command.slice(exec + 1).find((a) => !a.startsWith("-")) ?? command.join(" ");
  const env = isObject(t.env) ? t.env : {};
  return String(t.user ?? env.HOME ?? command.join(" "));
}

const sameJson = (a: unknown, b: unknown) => canonical(a) === canonical(b);
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  return JSON.stringify(value) ?? "undefined";
}

/** What an upgrade changes, before anyone decides. */
export function planUpgrade(existing: Json, proposal: Json): UpgradePlan {
  const plan: UpgradePlan = { added: [], corrections: [], stale: [], yoursOnly: [] };
  for (const [key, detected] of Object.entries(proposal)) {
    if (key === "targets") continue;
    compare(existing[key], detected, key, plan);
  }
  const yours = targetsOf(existing);
  const proposed = targetsOf(proposal);
  for (const target of proposed) {
    const id = targetIdentity(target);
    const mine = yours.find((t) => targetIdentity(t) === id);
    if (!mine) plan.added.push(`target ${id}`);
    else compare(mine, target, `targets[${id}]`, plan);
  }
  for (const target of yours) {
    const id = targetIdentity(target);
    if (proposed.some((t) => targetIdentity(t) === id)) continue;
    // Hosts come from `install --push`, exec and json-file targets are written by hand: never detection's, so never
    // stale (a --prune does not drop them).
    if (!DETECTED_KINDS.has(String(target.kind))) plan.yoursOnly.push(`target ${id}`);
    else plan.stale.push({ id, target });
  }
  for (const [key, value] of Object.entries(existing)) {
    if (key !== "targets" && !(key in proposal)) plan.yoursOnly.push(describeSetting(key, value));
  }
  return plan;
}

function compare(yours: unknown, detected: unknown, path: string, plan: UpgradePlan) {
  if (yours === undefined) {
    plan.added.push(`${path}: ${short(detected)}`);
    return;
  }
  if (isObject(yours) && isObject(detected) && !differentKinds(yours, detected)) {
    for (const [key, value] of Object.entries(detected)) compare(yours[key], value, `${path}.${key}`, plan);
    return;
  }
  if (!sameJson(yours, detected)) plan.corrections.push({ path, yours, detected });
}

/** The config an upgrade writes: the operator's, what detection adds, and only the corrections and drops chosen. */
export function applyUpgrade(existingIn: Json, proposalIn: Json, plan: UpgradePlan, choices: UpgradeChoices): Json {
  const [existing, proposal] = [structuredClone(existingIn), structuredClone(proposalIn)];
  const { targets: _t, ...proposedRest } = proposal;
  const { targets: _y, ...yoursRest } = existing;
  const merged = operatorOver(yoursRest, proposedRest) as Json;
  const proposed = targetsOf(proposal);
  const targets: Json[] = [];
  for (const target of targetsOf(existing)) {
    const id = targetIdentity(target);
    if (choices.drop.has(id) && plan.stale.some((s) => s.id === id)) continue;
    const match = proposed.find((t) => targetIdentity(t) === id);
    targets.push(match ? (operatorOver(target, match) as Json) : target);
  }
  for (const target of proposed) if (!targets.some((t) => targetIdentity(t) === targetIdentity(target))) targets.push(target);
  const result: Json = { ...merged, targets };
  for (const correction of plan.corrections) if (choices.take.has(correction.path)) setAt(result, correction.path, correction.detected);
  return orderLike(result, existing, proposal);
}

/** Sets a value at a path of `planUpgrade` (`a.b`, `targets[ID].c`). */
function setAt(config: Json, path: string, value: unknown) {
  const target = /^targets\[(.+?)\](?:\.(.*))?$/.exec(path);
  let node: Json;
  let keys: string[];
  if (target) {
    const found = targetsOf(config).find((t) => targetIdentity(t) === target[1]);
    if (!found) return;
    node = found;
    keys = target[2] ? target[2].split(".") : [];
  } else {
    node = config;
    keys = path.split(".");
  }
  const last = keys.pop();
  if (last === undefined) return;
  for (const key of keys) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[last] = value;
}

/** The operator's keys in their order first, then the proposal's new ones (a diff of the file stays small). */
function orderLike(result: Json, existing: Json, proposal: Json): Json {
  const keys = [...new Set([...Object.keys(existing), ...Object.keys(proposal), ...Object.keys(result)])].filter((k) => k in result);
  return Object.fromEntries(keys.map((k) => [k, result[k]]));
}

function targetsOf(config: Json): Json[] {
  return Array.isArray(config.targets) ? config.targets.filter(isObject) : [];
}

function describeSetting(key: string, value: unknown): string {
  if (key === "notify" && isObject(value) && Array.isArray(value.webhooks)) return `notify (${value.webhooks.length} webhook(s))`;
  if (isObject(value)) return `${key} (${Object.keys(value).join(", ")})`;
  return key;
}

/** A value as a diff line shows it: short, never a webhook URL (secrets live there). */
export function short(value: unknown): string {
  const text = JSON.stringify(value) ?? "undefined";
  if (/https?:\/\//.test(text)) return "(a URL, not shown)";
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
}

/** The lines a person reads before deciding. */
export function formatPlan(plan: UpgradePlan, configPath: string): string[] {
  const lines = [`${configPath} is there: what you wrote stays; detection adds what is missing and proposes corrections:`];
  for (const line of plan.added) lines.push(`  + ${line}`);
  for (const c of plan.corrections) lines.push(`  ~ ${c.path}: yours ${short(c.yours)}, detected ${short(c.detected)}`);
  for (const s of plan.stale) lines.push(`  - target ${s.id}: no longer detected`);
  if (plan.yoursOnly.length) lines.push(`  = kept as you wrote them: ${plan.yoursOnly.join(", ")}`);
  if (lines.length === 1) lines.push("  nothing: the config already says what detection finds");
  return lines;
}
