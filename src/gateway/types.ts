import type { ProcessRunner } from "../process/run.ts";

export interface ReloadDeps {
  run: ProcessRunner;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export type ReloadResult = { ok: true; detail: string } | { ok: false; error: string };

/** The state file's record of the gateway reload: still owed after a failure (kept across restarts), and how the last one went. */
export interface GatewayState {
  pending?: boolean;
  attempts?: number;
  lastReloadAt?: string;
  lastDetail?: string;
  lastError?: string;
  lastErrorAt?: string;
}

declare module "../state/store.ts" {
  interface StateSections {
    gateway?: GatewayState;
  }
}
