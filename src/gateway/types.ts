import { z } from "../config/zod.ts";
import type { ProcessRunner } from "../process/run.ts";
import { defineSection } from "../state/store.ts";

export interface ReloadDeps {
  run: ProcessRunner;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** `covered`: nothing was run, a good reload by another process started after the change (src/gateway/debt.ts). */
export type ReloadResult = { ok: true; detail: string; covered?: boolean } | { ok: false; error: string };

/**
 * The state file's record of the gateway reload, shared by every process of the host that reloads (the service,
 * `check`, `sync`, `receive`, `reload`): still owed after a failure (kept across restarts), and how the last one went.
 * Reloads are numbered as they start; a change owed a reload is placed among them (src/gateway/debt.ts).
 */
export interface GatewayState {
  pending?: boolean;
  /** Reloads started so far, by any process: the last one's number. */
  started?: number;
  /** The number of the last reload that went well. */
  lastGood?: number;
  /** The token (fingerprint) every target held when that reload started, where its process knew it. */
  lastGoodToken?: string;
  /** While pending: the change owed a reload was on disk after reload `owedSince` started (paid by a good one above it). */
  owedSince?: number;
  /** …and its pass began after reload `owedFrom` started, writing token `owedToken` (src/gateway/debt.ts). */
  owedFrom?: number;
  owedToken?: string;
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
const count = z.optional(z.int());

/** Written by the reloads alone (src/gateway/scheduler.ts), in whichever process runs them. */
export const gatewaySection = defineSection(
  "gateway",
  z.looseObject({
    pending: z.optional(z.boolean()),
    started: count,
    lastGood: count,
    lastGoodToken: text,
    owedSince: count,
    owedFrom: count,
    owedToken: text,
    attempts: z.optional(z.number()),
    lastReloadAt: text,
    lastDetail: text,
    lastError: text,
    lastErrorAt: text,
  }),
);
