import type { ProcessRunner } from "../process/run.ts";

export interface ReloadDeps {
  run: ProcessRunner;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export type ReloadResult = { ok: true; detail: string } | { ok: false; error: string };
