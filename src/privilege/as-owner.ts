import type { Actor } from "../fs/trust.ts";
import { describeActor } from "../fs/place.ts";
import { outputTail } from "../process/output.ts";
import { DEFAULT_PATH, type ProcessRunner } from "../process/run.ts";
import { loadAccounts } from "../users/accounts.ts";
import { parseAnswer, type OwnerAnswer, type OwnerRequest } from "./protocol.ts";
import { AS_OWNER_VERB, selfCommand } from "./self.ts";

const TIMEOUT_MS = 30_000;

/**
 * Runs one request in a child of this same binary with the owner's uid and gid (supplementary groups dropped):
 * the kernel then refuses whatever that user could not do, and what it creates is theirs. Secrets go on stdin.
 */
export async function runAsOwner(actor: Actor, request: OwnerRequest, run: ProcessRunner): Promise<OwnerAnswer> {
  const home = loadAccounts().byUid(actor.uid)?.home ?? "/";
  const result = await run([...selfCommand(), AS_OWNER_VERB], {
    stdin: JSON.stringify(request),
    env: { PATH: DEFAULT_PATH, HOME: home, LANG: "C.UTF-8" },
    timeoutMs: TIMEOUT_MS,
    cwd: "/",
    uid: actor.uid,
    gid: actor.gid,
  });
  const who = describeActor(actor);
  if (result.spawnError) return { ok: false, error: `cannot act as ${who}: ${result.spawnError}` };
  if (result.timedOut) return { ok: false, error: `acting as ${who} timed out after ${TIMEOUT_MS / 1000}s` };
  const answer = parseAnswer(result.stdout);
  if (!answer) return { ok: false, error: `acting as ${who} failed (exit ${result.code}): ${outputTail(result.stderr, 2) || "no answer"}` };
  return answer;
}
