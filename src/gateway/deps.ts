import { runProcess } from "../process/run.ts";
import type { ReloadDeps } from "./types.ts";

export const realReloadDeps: ReloadDeps = {
  run: runProcess,
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
