import { readFileSync } from "node:fs";
import { redact } from "../../../src/log/redact.ts";
import { judge, readTarget, type Seen, type SoakTarget, type Verdict } from "./classify.ts";

export interface Anomaly {
  atMs: number;
  target: string;
  verdict: Verdict;
  detail: string;
  /** The faults under way when it was read. */
  during: string;
}

const KEPT_ANOMALIES = 20;

/**
 * Reads every target every `intervalMs` (an in-process timer; each read is one synchronous readFileSync) and judges
 * each read: corrupt, blank, missing, downgrade (older than a token seen there before), unknown token, or fine.
 */
export function startSampler(targets: SoakTarget[], options: { intervalMs: number; rank: (token: string) => number | undefined; during: () => string }) {
  const counts: Record<Verdict, number> = { fine: 0, corrupt: 0, blank: 0, missing: 0, downgrade: 0, unknown: 0 };
  const anomalies: Anomaly[] = [];
  const seen = new Map<string, Seen>(targets.map((t) => [t.path, { rank: -1, expiresAt: -Infinity }]));
  const began = performance.now();
  let reads = 0;

  const sample = () => {
    for (const target of targets) {
      let text: string | undefined;
      try {
        text = readFileSync(target.path, "utf8");
      } catch {
        text = undefined;
      }
      const reading = readTarget(target, text);
      const judged = judge(reading, seen.get(target.path)!, options.rank);
      seen.set(target.path, judged.seen);
      counts[judged.verdict]++;
      reads++;
      if (judged.verdict !== "fine" && anomalies.length < KEPT_ANOMALIES) {
        const detail =
          reading.kind === "corrupt"
            ? redact(reading.detail)
            : reading.kind === "token"
              ? `rotation #${options.rank(reading.token) ?? "?"} after #${judged.seen.rank} was seen`
              : "";
        anomalies.push({ atMs: Math.round(performance.now() - began), target: target.path, verdict: judged.verdict, detail, during: options.during() });
      }
    }
  };
  const timer = setInterval(sample, options.intervalMs);
  return {
    counts,
    anomalies,
    reads: () => reads,
    stop() {
      clearInterval(timer);
      sample();
    },
  };
}
