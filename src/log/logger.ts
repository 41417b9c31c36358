import { LogLevels, type ConsolaInstance } from "consola/core";
import { hasTTY, isCI, env } from "std-env";
import { Writable } from "node:stream";
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
  return Boolean(env.JOURNAL_STREAM || env.INVOCATION_ID);
}

export function fancyOutput(): boolean {
  return hasTTY && !isCI && !underSystemd() && !env.NO_COLOR;
}

// The fancy reporter costs ~10 MB of memory: a resident service under journald loads only the basic one.
const { createConsola }: typeof import("consola/basic") = fancyOutput() ? require("consola") : require("consola/basic");

export const logger: ConsolaInstance = createConsola({
  level: LogLevels.info,
  fancy: fancyOutput(),
  stdout: redacting(process.stdout),
  stderr: redacting(process.stderr),
  formatOptions: { colors: fancyOutput(), date: false, compact: !fancyOutput() },
});

export function setVerbosity(opts: { verbose?: boolean; quiet?: boolean }): void {
  if (opts.verbose) logger.level = LogLevels.debug;
  else if (opts.quiet) logger.level = LogLevels.warn;
}

/** Program output (not logging) also goes through redaction. */
export function print(text: string): void {
  process.stdout.write(redact(text.endsWith("\n") ? text : `${text}\n`));
}
