import { mkdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { takeMkdirLock } from "../fs/mkdir-lock.ts";
import type { Config } from "../config/schema.ts";
import { formatTime } from "../credentials/parse.ts";
import type { ReloadDeps } from "../gateway/types.ts";
import { registerSecret } from "../log/redact.ts";
import { reloadNow } from "./effects.ts";
import { runPass } from "./pipeline.ts";
import { POLICY } from "./policy.ts";
import { noAlerts } from "../notify/alerts.ts";
import { localTargets, type SyncDeps } from "../sync/engine.ts";
import { sourceSection } from "../sync/record.ts";
import { loadState } from "../state/store.ts";
import type { Answer } from "../push/answer.ts";
import { parseMessage } from "../push/message.ts";
import { receiverProblem } from "../push/targets.ts";

export interface ReceiveDeps extends SyncDeps {
  reload: ReloadDeps;
  sleep: (ms: number) => Promise<void>;
}

const LOCK_STALE_MS = 10 * 60_000;
const LOCK_WAIT_MS = 30_000;

/**
 * `oauth-sync receive`: the message (already read, size-capped) → validated, the newer-token rule applied, this
 * host's targets written and its gateway reloaded (the pass of every verb, src/pass/), all by its own config. Nothing
 * is written for a refused message. The answer's status is the outcome (the verb's edge makes it an exit code).
 */
export async function receive(config: Config, text: string, deps: ReceiveDeps): Promise<Answer> {
  const now = deps.now();
  const parsed = parseMessage(text, now);
  if (!parsed.ok) return { status: "refused", detail: parsed.message };
  const problem = receiverProblem(config);
  if (problem) return { status: "misconfigured", detail: problem };
  const message = parsed.message;
  if (message.kind === "probe") {
    const held = sourceSection.read(await loadState(config.stateDir));
    return { status: "probe", fingerprint: held?.fingerprint, expiresAt: held?.expiresAt, detail: `receiver ready: ${localTargets(config).length} target(s), gateway ${config.gateway.kind}` };
  }
  registerSecret(message.credentials.accessToken);
  const release = await lock(config.stateDir, deps);
  if (!release) return { status: "failed", detail: `another receive holds ${join(config.stateDir, "receive.lock")}` };
  try {
    const held = sourceSection.read(await loadState(config.stateDir)) ?? {};
    // A forced push (`sync --force` on the source) is how an operator resets a receiver that holds a newer token.
    if (!message.force && held.fingerprint && held.fingerprint !== message.fingerprint && held.expiresAt !== undefined && held.expiresAt > message.credentials.expiresAt) {
      return {
        status: "refused",
        fingerprint: held.fingerprint,
        expiresAt: held.expiresAt,
        detail: `holds a newer token (${held.fingerprint}, expires ${formatTime(held.expiresAt)}) than the one pushed (${message.fingerprint}, expires ${formatTime(message.credentials.expiresAt)}): not written; to replace it, run \`oauth-sync sync --force\` on the source`,
      };
    }
    const effects = {
      sync: { now: () => now, run: deps.run, force: message.force, fault: deps.fault, onStageError: deps.onStageError },
      reloads: reloadNow(config, deps.reload),
      pushes: { offer() {}, everywhere: async () => [] },
      alerts: noAlerts,
      // stdout is the answer line; the verb logs the outcome as one line.
      log: () => {},
    };
    const { report, reload } = await runPass(config, { ok: true, credentials: message.credentials }, POLICY.receive, effects);
    const written = report.outcomes.filter((o) => o.status === "written").length;
    const bad = report.outcomes.filter((o) => o.status !== "written" && o.status !== "unchanged");
    const pushed = { fingerprint: message.fingerprint, expiresAt: message.credentials.expiresAt };
    if (bad.length) return { status: "failed", ...pushed, detail: bad.map((o) => `${o.id}: ${o.message ?? o.status}`).join("; ") };
    if (reload && !reload.ok) return { status: "reload-failed", ...pushed, detail: `${written} target(s) written; gateway reload failed: ${reload.error}` };
    const detail = `${written} of ${report.outcomes.length} target(s) written${reload ? `; gateway: ${reload.detail}` : ""}`;
    return { status: written ? "written" : "unchanged", ...pushed, detail };
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
