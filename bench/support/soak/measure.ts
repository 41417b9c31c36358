import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { redact } from "../../../src/log/redact.ts";

/** Our writer's temp files: `.<name>.oauth-sync-<hex>.tmp`. */
const TEMP_FILE = /^\..+\.oauth-sync-.+\.tmp$/;

/** How many rotations a service process was there for. */
export const served = (life: { rotationsAtStart: number; rotationsAtEnd?: number }, now: number) => (life.rotationsAtEnd ?? now) - life.rotationsAtStart;

/** The RSS trail at 0, 25, 50, 75 and 100 % of its length. */
export function quarters(trail: Array<{ rotations: number; kb: number }>) {
  if (trail.length === 0) return [];
  return [0, 0.25, 0.5, 0.75, 1].map((q) => trail[Math.min(trail.length - 1, Math.round(q * (trail.length - 1)))]!);
}

export function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** The service's error and warning lines, paths and numbers blurred, counted by kind: evidence that the faults bit. */
export function problemLines(output: string, root: string): Array<[string, number]> {
  const lines = output.split("\n").filter((l) => l.startsWith("[error]") || l.startsWith("[warn]"));
  const blurred = lines.map((l) =>
    redact(l)
      .split(root)
      .join("…")
      .replace(/sk-ant-…\[\w+\]|\b[0-9a-f]{12}\b/g, "FP")
      .replace(/\d+(\.\d+)?/g, "N")
      .slice(0, 160),
  );
  return Object.entries(tally(blurred)).sort((a, b) => b[1] - a[1]);
}

export async function tempFiles(dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) for (const entry of await readdir(dir).catch(() => [])) if (TEMP_FILE.test(entry)) found.push(join(dir, entry));
  return found;
}

/** The gateway script's log: one "run" line per run, one "fail" line per failure it was told to make. */
export async function gatewayRuns(root: string): Promise<{ runs: number; failures: number }> {
  const lines = (await readFile(join(root, "gateway.runs"), "utf8").catch(() => "")).split("\n");
  return { runs: lines.filter((l) => l === "run").length, failures: lines.filter((l) => l === "fail").length };
}

export async function holders(paths: string[], token: string): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) if (!(await readFile(path, "utf8").catch(() => "")).includes(token)) out.push(`${path} lacks the last token`);
  return out;
}
