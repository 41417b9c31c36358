import { outputTail } from "../process/output.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { parseAnswer, type Answer } from "./answer.ts";
import { sshArgv } from "./argv.ts";
import type { SshTargetConfig } from "../config/ssh.ts";

/**
 * How one push went, as the source records it:
 * - held: the receiver holds the token (written or unchanged);
 * - refused: the receiver refused this token (older than what it holds, expired): no retry until a new token;
 * - retry: anything else (host down, changed host key, key not accepted, a target or the reload failed there).
 */
export type PushResult =
  | { kind: "held"; answer: Answer; detail: string }
  | { kind: "refused"; answer?: Answer; error: string }
  | { kind: "retry"; answer?: Answer; error: string };

const SSH_FAILED = 255;

/** Send one line to one receiver over ssh and read its answer. Never throws. */
export async function pushOnce(target: SshTargetConfig, line: string, fingerprint: string | undefined, run: ProcessRunner): Promise<PushResult> {
  const result = await run(sshArgv(target), { stdin: line, env: minimalEnv(), timeoutMs: target.timeoutSeconds * 1000 });
  if (result.spawnError) return { kind: "retry", error: `cannot run ssh: ${result.spawnError}` };
  if (result.timedOut) return { kind: "retry", error: `no answer within ${target.timeoutSeconds} s` };
  const answer = parseAnswer(result.stdout);
  if (result.code === SSH_FAILED && !answer) return { kind: "retry", error: explainSshError(result.stderr, target) };
  if (!answer) {
    return {
      kind: "retry",
      error: `no answer from oauth-sync receive on ${target.host} (exit ${result.code}${outputTail(result.stderr) ? `: ${outputTail(result.stderr)}` : ""}): is it installed there, and the key's command?`,
    };
  }
  const detail = `${answer.status}: ${answer.detail}`;
  switch (answer.status) {
    case "written":
    case "unchanged":
    case "probe":
      if (result.code !== 0) return { kind: "retry", answer, error: `receiver exited ${result.code}: ${detail}` };
      if (fingerprint && answer.fingerprint !== fingerprint) return { kind: "retry", answer, error: `receiver answered for another token (${answer.fingerprint ?? "none"}): ${detail}` };
      return { kind: "held", answer, detail };
    case "refused":
      return { kind: "refused", answer, error: `receiver refused the token: ${answer.detail}` };
    default:
      return { kind: "retry", answer, error: `receiver ${detail}` };
  }
}

/** Pure: ssh's own failure (exit 255) in words a person can act on. */
export function explainSshError(stderr: string, target: SshTargetConfig): string {
  const where = `${target.host}:${target.port}`;
  const tail = outputTail(stderr, 2);
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|host key for .* has changed/i.test(stderr)) {
    return `the host key of ${where} does not match ${target.knownHostsFile} (changed, or not listed): refused, nothing sent. If the host was reinstalled on purpose, confirm its new key with \`oauth-sync install --push ${target.user}@${target.host} --port ${target.port}\``;
  }
  if (/No .*host key is known|not in known_hosts/i.test(stderr)) return `${where} is not listed in ${target.knownHostsFile}: nothing sent (\`oauth-sync install --push\` adds it)`;
  if (/Permission denied/i.test(stderr)) return `${target.user}@${where} did not accept ${target.identityFile} (${tail}): is the authorized_keys line in place?`;
  if (/Connection refused/i.test(stderr)) return `${where} refused the connection (sshd not running?)`;
  if (/timed out/i.test(stderr)) return `${where} did not answer within ${target.connectTimeoutSeconds} s (host down or unreachable)`;
  if (/UNPROTECTED PRIVATE KEY|bad permissions/i.test(stderr)) return `${target.identityFile} is readable by others: ssh refuses it (\`chmod 600 ${target.identityFile}\`)`;
  return `ssh to ${where} failed: ${tail || "exit 255"}`;
}
