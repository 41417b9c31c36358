/**
 * Pure: which of several OpenClaw installs to serve, by evidence rather than listing order. Each candidate scores
 * what it has (openclaw.json, a credential store, a known release, configured agents, a running or installed
 * gateway) and loses for what is wrong (a missing state dir, files compose rejects). The report says why.
 */
import type { Found, OpenClawInstall } from "./openclaw.ts";

export interface Scored {
  found: Found<OpenClawInstall>;
  score: number;
  reasons: string[];
}

export function scoreInstall(install: OpenClawInstall, running: boolean): { score: number; reasons: string[] } {
  const reasons: string[] = [];
  let score = 0;
  const add = (points: number, why: string) => {
    score += points;
    reasons.push(`${points > 0 ? "+" : ""}${points} ${why}`);
  };
  if (install.missing?.length) add(-10, `missing ${install.missing.join(", ")}`);
  if (install.problems?.length) add(-5, "compose cannot resolve it");
  if (install.hasConfig) add(3, "openclaw.json");
  if (install.sqlite || install.legacyJson.length) add(3, install.sqlite ? "SQLite store" : "auth-profiles/oauth.json store");
  if (install.release) add(2, `release ${install.release}`);
  if (install.agentsFrom && install.agentsFrom !== "default") add(Math.min(install.agents.length, 3), `${install.agents.length} agent(s) in ${install.agentsFrom}`);
  if (running) add(4, install.kind === "compose" ? "running containers" : "running gateway");
  else if (install.unit) add(2, `gateway unit ${install.unit.name}`);
  return { score, reasons };
}

/** Best first; `tie` when the best two score the same (a person, or a flag, must decide). */
export function rank(installs: Found<OpenClawInstall>[], runningDirs: string[], runningStateDirs: string[] = []): { ranked: Scored[]; tie: boolean } {
  const isRunning = (i: OpenClawInstall) => (i.kind === "compose" ? Boolean(i.projectDir && runningDirs.includes(i.projectDir)) : runningStateDirs.includes(i.stateDir));
  const ranked = installs
    .map((found) => ({ found, ...scoreInstall(found.value, isRunning(found.value)) }))
    .sort((a, b) => b.score - a.score);
  return { ranked, tie: ranked.length > 1 && ranked[0]!.score === ranked[1]!.score };
}

/** The flag that settles a tie for this kind of install. */
export function settlingFlag(install: OpenClawInstall): string {
  return install.kind === "compose" ? `--project-dir ${install.projectDir}` : `--openclaw-dir ${install.stateDir}`;
}
