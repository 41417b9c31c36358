import type { SoakResult } from "./run.ts";

const mb = (kb?: number) => (kb === undefined ? "n/a" : `${(kb / 1024).toFixed(1)} MB`);
const growth = (start?: number, end?: number) => (start === undefined || end === undefined ? "n/a" : `${((end - start) / 1024).toFixed(2)} MB`);

/** The soak's figures, one per line (goal: 0 in every count, convergence within 1 s, RSS growth < 2 MB per 10 000 rotations). */
export function soakReport(r: SoakResult): string[] {
  const row = (name: string, value: string | number) => `${name.padEnd(44)} ${value}`;
  const lines = [
    row("seed", `${r.seed} (again: --seed ${r.seed})`),
    row("steps / rotations", `${r.steps} / ${r.rotations}`),
    row("faults", Object.entries(r.faults).map(([k, n]) => `${k} ${n}`).join(", ")),
  ];
  for (const [kind, reason] of Object.entries(r.unavailable)) lines.push(row(`  fault not run: ${kind}`, reason));
  lines.push(
    row("target reads sampled", r.reads),
    row("corrupt reads", r.counts.corrupt),
    row("blank reads", r.counts.blank),
    row("downgrades", r.counts.downgrade),
    row("missing-file reads", r.counts.missing),
    row("reads of a token never written", r.counts.unknown),
  );
  for (const a of r.anomalies) lines.push(`  ${a.atMs} ms ${a.verdict} ${a.target} during ${a.during}${a.detail ? `: ${a.detail}` : ""}`);
  lines.push(
    row("exits of the service on its own", r.ownExits.length),
    row("restarts after our SIGKILL", r.killsByUs),
    row("service processes in all", r.incarnations),
    row("exit code on the final SIGTERM", String(r.stopCode)),
  );
  for (const exit of r.ownExits) {
    lines.push(`  pid ${exit.pid} exited by itself: code ${exit.code}, signal ${exit.signal}; its last lines:`);
    for (const line of exit.lastLines) lines.push(`    ${line}`);
  }
  lines.push(row("token lines in the output (sk-ant-)", r.tokenLines));
  for (const line of r.tokenLineExamples) lines.push(`  ${line}`);
  lines.push(row("temp files left after the final stop", r.tempFilesLeft.length));
  for (const path of r.tempFilesLeft) lines.push(`  ${path}`);
  lines.push(
    row("service up again before the last rotation", `${r.serviceUpAfterMs.toFixed(0)} ms`),
    row("converged after the faults stopped", r.convergeMs === undefined ? `NO (${r.notConverged.join("; ")})` : `${r.convergeMs.toFixed(1)} ms`),
    row("gateway reloaded after the last rotation", r.gatewayAfterLastMs === undefined ? "NO (not within 5 s: the reload scheduler stalled?)" : `${r.gatewayAfterLastMs.toFixed(0)} ms`),
    row("errors that escaped every guard", `${r.escapedErrors} (logged by the process-level handler)`),
    row("concurrent `sync` runs (exit codes)", `${r.syncRuns} ${JSON.stringify(r.syncExitCodes)}`),
    ...r.failedSyncs.slice(0, 3).map((o) => `  a sync that failed: ${o.split("\n").slice(-4).join(" | ").slice(0, 400)}`),
    row("gateway runs / failed on purpose", `${r.gatewayRuns} / ${r.gatewayFailures}`),
    row("RSS first process at start → last at end", `${mb(r.rss.firstStartKb)} → ${mb(r.rss.lastEndKb)} (${r.incarnations === 1 ? "one process throughout" : `${r.incarnations} processes: not the same one`})`),
    row(
      "RSS of the longest-lived process",
      `${mb(r.rss.longest.startKb)} → ${mb(r.rss.longest.endKb)} (growth ${growth(r.rss.longest.startKb, r.rss.longest.endKb)} over its ${r.rss.longest.rotations} rotations, pid ${r.rss.longest.pid})`,
    ),
    row("  its RSS along the way (rotations: RSS)", r.rss.longest.trail.map((p) => `${p.rotations}: ${mb(p.kb)}`).join(", ") || "n/a"),
    ...(r.rss.idle
      ? [
          row(
            `RSS settled (${r.rss.idle.ms / 1000} s idle, its own GC ran)`,
            `${mb(r.rss.idle.startKb)} after ${r.rss.idle.warmUp} warm-up rotations → ${mb(r.rss.idle.endKb)} at the end: growth ${growth(r.rss.idle.startKb, r.rss.idle.endKb)}${r.rss.idle.sameProcess ? " (same process)" : " (NOT the same process: SIGKILL restarts)"}`,
          ),
        ]
      : []),
    row("service error/warning lines (kinds)", `${r.problems.reduce((n, [, c]) => n + c, 0)} (${r.problems.length})`),
    ...r.problems.slice(0, 12).map(([line, count]) => `  ${String(count).padStart(6)}× ${line}`),
    row("run time", `${(r.elapsedMs / 1000).toFixed(0)} s`),
  );
  return lines;
}
