import { defineCommand } from "citty";
import { configPath, loadConfig } from "../config/load.ts";
import { EXIT, ExitError } from "../exit-codes.ts";
import { ownDirPathProblem } from "../fs/place.ts";
import { realReloadDeps } from "../gateway/deps.ts";
import { logToStderrOnly, logger } from "../log/logger.ts";
import { redact } from "../log/redact.ts";
import { registerWebhookSecrets } from "../notify/send.ts";
import { formatAnswer, type Answer } from "../push/answer.ts";
import { MAX_MESSAGE_BYTES } from "../push/message.ts";
import { receive } from "../pass/receive.ts";
import { readBoundedStdin } from "../process/stdin.ts";
import { runProcess } from "../process/run.ts";
import { receiveExitCode } from "./_edge.ts";
import { applyVerbosity, commonArgs } from "./_shared.ts";

const STDIN_TIMEOUT_MS = 15_000;

function answer(code: number, value: Answer): never {
  process.stdout.write(redact(formatAnswer(value)));
  throw new ExitError(code);
}

export default defineCommand({
  meta: {
    name: "receive",
    description:
      'Take one token pushed over ssh on stdin and write it into this host\'s targets (config with "source": "push"); the forced command of the source\'s key. Answers one JSON line; exit 0 ok, 1 target failed, 2 misconfigured, 3 refused, 4 reload failed',
  },
  args: { ...commonArgs },
  async run({ args }) {
    applyVerbosity(args);
    // stdout carries the one answer line: every log line goes to stderr.
    logToStderrOnly();
    const read = await readBoundedStdin(MAX_MESSAGE_BYTES, STDIN_TIMEOUT_MS);
    if (!read.ok) answer(EXIT.credentialsRefused, { status: "refused", detail: read.message });
    const loaded = await loadConfig(configPath(args.config));
    if (!loaded.ok) answer(EXIT.misconfigured, { status: "misconfigured", detail: loaded.errors.join("; ").slice(0, 300) });
    registerWebhookSecrets(loaded.config.notify.webhooks);
    const stateProblem = ownDirPathProblem(loaded.config.stateDir);
    if (stateProblem) answer(EXIT.misconfigured, { status: "misconfigured", detail: `state directory: ${stateProblem}` });
    const result = await receive(loaded.config, read.text, { now: Date.now, run: runProcess, reload: realReloadDeps, sleep: realReloadDeps.sleep });
    const code = receiveExitCode(result);
    const line = `${result.status}${result.fingerprint ? ` ${result.fingerprint}` : ""}: ${result.detail}`;
    if (code === EXIT.ok) logger.info(`receive: ${line}`);
    else logger.error(`receive: ${line}`);
    answer(code, result);
  },
});
