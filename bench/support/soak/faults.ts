import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { credentialsJson, rotate } from "../../../src/demo/sandbox.ts";
import { run } from "../../../test/support/binary.ts";
import { fill, lock, unfill, unlock, type LockMethod } from "./locks.ts";
import type { Random } from "./prng.ts";
import type { supervise } from "./supervisor.ts";

export const FAULT_KINDS = [
  "half-written",
  "blanked-login",
  "rename-storm",
  "directory-replaced",
  "sigkill",
  "full-disk",
  "immutable-state",
  "read-only-target",
  "failing-gateway",
  "concurrent-sync",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SyncRun {
  code: number;
  output: string;
}

export interface FaultContext {
  rng: Random;
  credentials: string;
  stateDir: string;
  /** Targets on the ordinary filesystem (the read-only fault picks one). */
  lockableTargets: string[];
  stateLock?: LockMethod;
  targetLock?: LockMethod;
  /** The small tmpfs holding one target, when it could be mounted. */
  tmpfsDir?: string;
  /** While this file exists the gateway command fails. */
  gatewayFlag: string;
  configPath: string;
  supervisor: ReturnType<typeof supervise>;
  /** Writes the next rotation the way Claude Code does (temp + rename); returns its token. */
  rotateNext(): Promise<string>;
  /** Takes the next rotation's token and expiry without writing it. */
  nextLogin(): { token: string; expiresAt: number };
  syncRuns: SyncRun[];
  /** Faults under way, for the sampler's anomaly notes. */
  active: Set<string>;
}

/** A fault's hold: a few rotations, each followed by a short pause (counts drawn from the seed, not the clock). */
export async function rotateWhile(ctx: FaultContext) {
  for (let i = ctx.rng.int(1, 6); i > 0; i--) {
    await ctx.rotateNext();
    await Bun.sleep(ctx.rng.int(5, 80));
  }
}

async function withLock(path: string, method: LockMethod, body: () => Promise<void>) {
  await lock(path, method);
  try {
    await body();
  } finally {
    await unlock(path, method);
  }
}

export const faults: Record<FaultKind, (ctx: FaultContext) => Promise<void>> = {
  /** The credentials file cut short in place, then completed (a writer caught mid-write). */
  async "half-written"(ctx) {
    const login = ctx.nextLogin();
    const text = credentialsJson(login.token, login.expiresAt);
    await writeFile(ctx.credentials, text.slice(0, ctx.rng.int(1, text.length - 1)));
    await Bun.sleep(ctx.rng.int(0, 150));
    await rotate({ credentials: ctx.credentials }, login.token, login.expiresAt);
  },
  /** What Claude Code writes on invalid_grant: accessToken "" and expiresAt 0. Later a fresh login. */
  async "blanked-login"(ctx) {
    await rotate({ credentials: ctx.credentials }, "", 0);
    await Bun.sleep(ctx.rng.int(20, 300));
    await ctx.rotateNext();
  },
  async "rename-storm"(ctx) {
    const count = ctx.rng.int(5, 30);
    for (let i = 0; i < count; i++) {
      await ctx.rotateNext();
      if (ctx.rng.chance(0.3)) await Bun.sleep(ctx.rng.int(0, 3));
    }
  },
  /** The credentials directory removed, then made again with a new login. */
  async "directory-replaced"(ctx) {
    const dir = dirname(ctx.credentials);
    await rm(dir, { recursive: true, force: true });
    await Bun.sleep(ctx.rng.int(0, 200));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await ctx.rotateNext();
  },
  /** SIGKILL a few ms after a rotation (inside its pass, often mid-write), restarted like systemd would. */
  async sigkill(ctx) {
    await ctx.rotateNext();
    await Bun.sleep(ctx.rng.int(0, 30));
    await ctx.supervisor.kill();
  },
  /** The tmpfs that holds one target filled up while logins rotate. */
  async "full-disk"(ctx) {
    await fill(ctx.tmpfsDir!);
    try {
      await rotateWhile(ctx);
    } finally {
      await unfill(ctx.tmpfsDir!);
    }
  },
  async "immutable-state"(ctx) {
    await withLock(ctx.stateDir, ctx.stateLock!, () => rotateWhile(ctx));
  },
  async "read-only-target"(ctx) {
    await withLock(ctx.rng.pick(ctx.lockableTargets), ctx.targetLock!, () => rotateWhile(ctx));
  },
  async "failing-gateway"(ctx) {
    await writeFile(ctx.gatewayFlag, "");
    try {
      await rotateWhile(ctx);
    } finally {
      await rm(ctx.gatewayFlag, { force: true });
    }
  },
  /** `oauth-sync sync` runs alongside the service (and each other), right after a rotation. */
  async "concurrent-sync"(ctx) {
    await ctx.rotateNext();
    const runs = Array.from({ length: ctx.rng.int(1, 3) }, async (_, i) => {
      await Bun.sleep(i * ctx.rng.int(0, 10));
      return run(["sync", "--config", ctx.configPath]);
    });
    if (ctx.rng.chance(0.5)) await ctx.rotateNext();
    for (const result of await Promise.all(runs)) ctx.syncRuns.push({ code: result.code, output: result.output });
  },
};
