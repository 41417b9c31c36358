import { LogLevels, type ConsolaInstance } from "consola/core";
import { isatty } from "node:tty";
import { Writable } from "node:stream";
import { plainReporter } from "./plain-reporter.ts";
import { redact } from "./redact.ts";

/** A stream that redacts every chunk before it reaches the real one: the one place secrets are scrubbed. */
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

// The fancy reporter costs ~10 MB of memory: a resident service under journald loads consola's core and a plain reporter.
export const logger: ConsolaInstance = fancy
  ? (require("consola") as typeof import("consola")).createConsola({
      level: LogLevels.info,
      fancy: true,
      ...streams(),
      formatOptions: { colors: true, date: false, compact: false },
    })
  : (require("consola/core") as typeof import("consola/core")).createConsola({
      level: LogLevels.info,
      reporters: [plainReporter(redact, () => logsToStderr)],
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

/** Program output (not logging) also goes through redaction. */
export function print(text: string): void {
  process.stdout.write(redact(text.endsWith("\n") ? text : `${text}\n`));
}
