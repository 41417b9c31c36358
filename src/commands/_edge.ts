import type { CommandDef } from "citty";
import { writeSync } from "node:fs";
import { EXIT, ExitError } from "../exit-codes.ts";
import { logToStderrOnly, logger } from "../log/logger.ts";
import { oneLine } from "../log/one-line.ts";
import type { PassOutcome } from "../pass/pipeline.ts";
import type { Answer } from "../push/answer.ts";
import type { CheckResult } from "../refresh/check.ts";
import { redact } from "../log/redact.ts";

/** Set for `--json`: stdout carries JSON only, and whether the verb printed its answer yet. */
let json: { printed: boolean } | undefined;

/**
 * `--json`: every log line goes to stderr, and a failure before the verb printed its answer still answers on stdout,
 * as `{"error": "…", "errors": […], "exit": N}`.
 */
export function reportAsJson(): void {
  if (json) return;
  json = { printed: false };
  logToStderrOnly();
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((...args: Parameters<typeof write>) => {
    json!.printed = true;
    return write(...args);
  }) as typeof process.stdout.write;
}

/** The one place a verb's process ends with a code (signal handlers outside a verb's run call it too). */
export function leave(code: number, errors: string[] = []): never {
  if (json && code !== EXIT.ok && !json.printed) {
    json.printed = true;
    writeSync(1, redact(`${JSON.stringify({ error: errors[0] ?? `failed with exit code ${code}`, errors, exit: code })}\n`));
  }
  process.exit(code);
}

/** Wraps a verb's run (and its sub-verbs') so a bug ends in one logged line and exit 1, not a stack trace. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function guardCommand<T extends CommandDef<any>>(command: T): T {
  const run = command.run;
  const subCommands = command.subCommands as Record<string, () => Promise<CommandDef>> | undefined;
  return {
    ...command,
    ...(run
      ? {
          async run(context: Parameters<NonNullable<CommandDef["run"]>>[0]) {
            try {
              return await run(context as never);
            } catch (error) {
              if (error instanceof ExitError) {
                if (error.message) logger.error(error.message);
                return leave(error.code, [...(error.message ? [error.message] : []), ...error.details]);
              }
              const line = `oauth-sync failed: ${oneLine(error)}`;
              logger.error(line);
              return leave(EXIT.failed, [line]);
            }
          },
        }
      : {}),
    ...(subCommands && typeof subCommands === "object"
      ? { subCommands: Object.fromEntries(Object.entries(subCommands).map(([name, sub]) => [name, async () => guardCommand(await resolve(sub))])) }
      : {}),
  } as T;
}

async function resolve(value: unknown): Promise<CommandDef> {
  return (typeof value === "function" ? await value() : await value) as CommandDef;
}

/** Last line of defence for errors outside any verb's run (timers, event handlers): one line, no stack. */
export function installCrashHandlers() {
  process.on("uncaughtException", (error) => {
    logger.error(`oauth-sync: unexpected error: ${oneLine(error)}`);
    leave(EXIT.failed);
  });
  process.on("unhandledRejection", (error) => {
    logger.error(`oauth-sync: unexpected error (kept running): ${oneLine(error)}`);
  });
}

/** `sync`: the pass's outcome → its exit code (docs/ARCHITECTURE.md). */
export function syncExitCode(outcome: PassOutcome): number {
  if (!outcome.report.source.ok) return EXIT.credentialsRefused;
  if (outcome.reload && !outcome.reload.ok) return EXIT.reloadFailed;
  if (!outcome.report.ok || outcome.pushes?.some((p) => p.result.kind !== "held")) return EXIT.targetFailed;
  return EXIT.ok;
}

/** `check`/`refresh`: the check's result → its exit code (docs/HOW-TOKEN-REFRESH-WORKS.md). */
export function checkExitCode(result: CheckResult): number {
  switch (result.status) {
    case "ok":
      return EXIT.ok;
    case "refreshed":
      return EXIT.refreshed;
    case "transient":
      return EXIT.refreshTransient;
    case "reauth":
      return EXIT.reauthNeeded;
    case "misconfigured":
      return EXIT.misconfigured;
  }
}

/** `receive`: its answer → its exit code (docs/MULTI-HOST.md). */
export function receiveExitCode(answer: Pick<Answer, "status">): number {
  switch (answer.status) {
    case "written":
    case "unchanged":
    case "probe":
      return EXIT.ok;
    case "failed":
      return EXIT.targetFailed;
    case "misconfigured":
      return EXIT.misconfigured;
    case "refused":
      return EXIT.credentialsRefused;
    case "reload-failed":
      return EXIT.reloadFailed;
  }
}
