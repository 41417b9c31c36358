import { LogLevels, type ConsolaInstance, type ConsolaReporter, type LogObject } from "consola/core";
import { isatty } from "node:tty";
import { Writable } from "node:stream";
import { messageOf, plainReporter } from "./plain-reporter.ts";
import { redact } from "./redact.ts";
import { jsonBody, logLine, outputLine, outputText } from "./sanitize.ts";

/** A stream that redacts every chunk before it reaches the real one (the message was made safe before, see below). */
function redacting(target: NodeJS.WriteStream): NodeJS.WriteStream {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      target.write(redact(chunk.toString()), done);
    },
  }) as unknown as NodeJS.WriteStream;
  // consola asks the stream about its terminal to pick widths and colours.
  Object.assign(stream, { isTTY: target.isTTY, columns: target.columns, hasColors: () => false });
  return stream;
}

export function underSystemd(): boolean {
  return Boolean(process.env.JOURNAL_STREAM || process.env.INVOCATION_ID);
}

/**
 * A person at a terminal. std-env is asked only when stdout is a terminal: importing it reads `process.stdout`,
 * which costs a Bun process ~4 MB that a service under journald never needs.
 */
export function fancyOutput(): boolean {
  if (!isatty(1) || underSystemd() || process.env.NO_COLOR) return false;
  const { isCI }: typeof import("std-env") = require("std-env");
  return !isCI;
}

const fancy = fancyOutput();
let logsToStderr = false;
const streams = () => ({ stdout: redacting(process.stdout), stderr: redacting(process.stderr) });

/**
 * At a terminal the message is made safe first (one line, every control character visible), then consola adds
 * its own colours and icons: ours work, none arrives from the text.
 */
function sanitizing(reporter: ConsolaReporter): ConsolaReporter {
  return {
    log(logObj: LogObject, ctx) {
      reporter.log({ ...logObj, tag: logObj.tag && logLine(logObj.tag), args: [logLine(messageOf(logObj.args))] }, ctx);
    },
  };
}

type PromptOption = string | { value: string; label?: string; hint?: string };

/** A question at the terminal may name paths and agents someone else chose: its words are made safe, its values kept. */
function sanitizingPrompts(instance: ConsolaInstance): void {
  const ask = instance.options.prompt;
  if (!ask) return;
  instance.options.prompt = ((message: string, opts: { options?: PromptOption[] } = {}) =>
    ask(logLine(message), {
      ...opts,
      ...(opts.options
        ? {
            options: opts.options.map((o) =>
              typeof o === "string" ? { value: o, label: logLine(o) } : { ...o, ...(o.label ? { label: logLine(o.label) } : {}), ...(o.hint ? { hint: logLine(o.hint) } : {}) },
            ),
          }
        : {}),
    } as never)) as typeof ask;
}

function fancyLogger(): ConsolaInstance {
  const instance = (require("consola") as typeof import("consola")).createConsola({
    level: LogLevels.info,
    fancy: true,
    ...streams(),
    formatOptions: { colors: true, date: false, compact: false },
  });
  instance.setReporters(instance.options.reporters.map(sanitizing));
  sanitizingPrompts(instance);
  return instance;
}

// The fancy reporter costs ~10 MB of memory: a resident service under journald loads consola's core and a plain reporter.
export const logger: ConsolaInstance = fancy
  ? fancyLogger()
  : (require("consola/core") as typeof import("consola/core")).createConsola({
      level: LogLevels.info,
      reporters: [plainReporter(() => logsToStderr)],
      // consola reads these for widths only; the reporter writes to fd 1 and 2 itself.
      stdout: { columns: 0 } as NodeJS.WriteStream,
      stderr: { columns: 0 } as NodeJS.WriteStream,
      formatOptions: { colors: false, date: false, compact: true },
    });

/** For a verb whose stdout is a protocol (`receive`'s answer line): every log line goes to stderr. */
export function logToStderrOnly(): void {
  logsToStderr = true;
  logger.options.stdout = logger.options.stderr;
}

export function setVerbosity(opts: { verbose?: boolean; quiet?: boolean }): void {
  if (opts.verbose) logger.level = LogLevels.debug;
  else if (opts.quiet) logger.level = LogLevels.warn;
}

/** Program output as JSON (`--json`): valid JSON whatever the strings in it hold, secrets redacted. */
export function printJson(value: unknown): void {
  process.stdout.write(`${jsonBody(value, 2)}\n`);
}

/**
 * Program output (not logging): a text oauth-sync composed (its own newlines kept), or a list of lines that may
 * quote someone else's words (each one line, whatever it holds). Secrets redacted, control characters made visible.
 */
export function print(text: string | string[]): void {
  const shown = typeof text === "string" ? outputText(text) : text.map(outputLine).join("\n");
  process.stdout.write(shown.endsWith("\n") ? shown : `${shown}\n`);
}

