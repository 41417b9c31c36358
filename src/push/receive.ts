import { mkdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { takeMkdirLock } from "../fs/mkdir-lock.ts";
import type { Config } from "../config/schema.ts";
import { formatTime } from "../credentials/parse.ts";
import { EXIT } from "../exit-codes.ts";
import type { ReloadDeps } from "../gateway/types.ts";
import { reloadOnce } from "../gateway/scheduler.ts";
import { registerSecret } from "../log/redact.ts";
import { localTargets, syncFrom, type SyncDeps } from "../sync/engine.ts";
import { loadState } from "../state/store.ts";
import type { Answer } from "./answer.ts";
import { parseMessage } from "./message.ts";

export interface ReceiveDeps extends SyncDeps {
  reload: ReloadDeps;
  sleep: (ms: number) => Promise<void>;
}

export interface Received {
  code: number;
  answer: Answer;
}

const LOCK_STALE_MS = 10 * 60_000;
const LOCK_WAIT_MS = 30_000;

/** Pure: a receiving config must say so, and may not push on (a loop of hosts pushing to each other). */
export function receiverProblem(config: Config): string | undefined {
  if (config.source !== "push") return 'this config follows a credentials file: a receiving host needs `"source": "push"` in its config';
  if (config.targets.some((t) => t.kind === "ssh")) return "a receiving host does not push on: remove its ssh targets";
  if (localTargets(config).length === 0) return "a receiving host needs at least one local target";
  return undefined;
}

/**
 * `oauth-sync receive`: the message (already read, size-capped) → validated, the newer-token rule applied, this
 * host's targets written and its gateway reloaded, all by its own config. Nothing is written for a refused message.
 */
export async function receive(config: Config, text: string, deps: ReceiveDeps): Promise<Received> {
  const now = deps.now();
  const parsed = parseMessage(text, now);
  if (!parsed.ok) return { code: EXIT.credentialsRefused, answer: { status: "refused", detail: parsed.message } };
  const problem = receiverProblem(config);
  if (problem) return { code: EXIT.misconfigured, answer: { status: "misconfigured", detail: problem } };
  const message = parsed.message;
  if (message.kind === "probe") {
    const state = await loadState(config.stateDir);
    return {
      code: EXIT.ok,
      answer: { status: "probe", fingerprint: state.source?.fingerprint, expiresAt: state.source?.expiresAt, detail: `receiver ready: ${localTargets(config).length} target(s), gateway ${config.gateway.kind}` },
    };
  }
  registerSecret(message.credentials.accessToken);
  const release = await lock(config.stateDir, deps);
  if (!release) return { code: EXIT.targetFailed, answer: { status: "failed", detail: `another receive holds ${join(config.stateDir, "receive.lock")}` } };
  try {
    const state = await loadState(config.stateDir);
    const held = state.source ?? {};
    // A forced push (`sync --force` on the source) is how an operator resets a receiver that holds a newer token.
    if (!message.force && held.fingerprint && held.fingerprint !== message.fingerprint && held.expiresAt !== undefined && held.expiresAt > message.credentials.expiresAt) {
      return {
        code: EXIT.credentialsRefused,
        answer: {
          status: "refused",
          fingerprint: held.fingerprint,
          expiresAt: held.expiresAt,
          detail: `holds a newer token (${held.fingerprint}, expires ${formatTime(held.expiresAt)}) than the one pushed (${message.fingerprint}, expires ${formatTime(message.credentials.expiresAt)}): not written; to replace it, run \`oauth-sync sync --force\` on the source`,
        },
      };
    }
    const report = await syncFrom(config, { ok: true, credentials: message.credentials }, { ...deps, force: message.force }, now);
    const written = report.outcomes.filter((o) => o.status === "written").length;
    const bad = report.outcomes.filter((o) => o.status !== "written" && o.status !== "unchanged");
    const held2 = { fingerprint: message.fingerprint, expiresAt: message.credentials.expiresAt };
    if (bad.length) {
      return { code: EXIT.targetFailed, answer: { status: "failed", ...held2, detail: bad.map((o) => `${o.id}: ${o.message ?? o.status}`).join("; ") } };
    }
    const owed = (await loadState(config.stateDir)).gateway?.pending;
    let reloaded = "";
    if ((report.reloadNeeded || owed) && config.gateway.kind !== "none") {
      const result = await reloadOnce(config.gateway, config.stateDir, deps.reload);
      if (!result.ok) return { code: EXIT.reloadFailed, answer: { status: "reload-failed", ...held2, detail: `${written} target(s) written; gateway reload failed: ${result.error}` } };
      reloaded = `; gateway: ${result.detail}`;
    }
    const detail = `${written} of ${report.outcomes.length} target(s) written${reloaded}`;
    return { code: EXIT.ok, answer: { status: written ? "written" : "unchanged", ...held2, detail } };
  } finally {
    await release();
  }
}

/** One receive at a time per state dir (a retry may arrive while a slow reload still runs): a mkdir lock. */
async function lock(stateDir: string, deps: Pick<ReceiveDeps, "now" | "sleep">): Promise<(() => Promise<void>) | undefined> {
  const path = join(stateDir, "receive.lock");
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const taken = await takeMkdirLock(path, { staleMs: LOCK_STALE_MS, waitMs: LOCK_WAIT_MS, now: deps.now, sleep: deps.sleep });
  return taken ? () => rmdir(path).catch(() => undefined) : undefined;
}
