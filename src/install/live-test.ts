import type { Config } from "../config/schema.ts";
import { redact } from "../log/redact.ts";
import type { ProcessRunner } from "../process/run.ts";
import { runCliTrigger } from "../refresh/trigger.ts";

/**
 * Run the configured refresh trigger once, the way the service will (`claude auth status` spends no model call and
 * refreshes only inside the CLI's last 5 minutes), and show what it said, redacted.
 */
export async function liveTriggerTest(config: Config, run: ProcessRunner): Promise<{ ok: boolean; lines: string[] }> {
  const trigger = config.trigger;
  if (trigger.mode !== "host" && trigger.mode !== "container") return { ok: true, lines: [`refresh trigger: ${trigger.mode} (nothing to test)`] };
  const outcome = await runCliTrigger(trigger, config.credentials, run);
  if (!outcome.ok) return { ok: false, lines: [`refresh trigger test failed: ${outcome.message}`] };
  const { result } = outcome;
  const output = redact(`${result.stdout}${result.stderr}`).trim().split("\n").slice(0, 12);
  const ok = result.code === 0 && !result.timedOut;
  return { ok, lines: [`refresh trigger test: ${outcome.describe} → ${result.timedOut ? "timed out" : `exit ${result.code}`}`, ...output.map((l) => `  ${l}`)] };
}
