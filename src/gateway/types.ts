import { z } from "../config/zod.ts";
import type { ProcessRunner } from "../process/run.ts";
import { defineSection } from "../state/store.ts";

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

const text = z.optional(z.string());

/** Written by the reload scheduler alone (src/gateway/scheduler.ts). */
export const gatewaySection = defineSection(
  "gateway",
  z.looseObject({ pending: z.optional(z.boolean()), attempts: z.optional(z.number()), lastReloadAt: text, lastDetail: text, lastError: text, lastErrorAt: text }),
);
