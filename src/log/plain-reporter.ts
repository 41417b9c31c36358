import { writeSync } from "node:fs";
import { formatWithOptions } from "node:util";
import type { ConsolaReporter, LogObject } from "consola/core";

/**
 * consola's basic format (`[type] message`; an error shows its message only) written straight to fd 1/2 through
 * `redact`. Touching `process.stdout` costs a Bun process ~4 MB (it builds the node stream stack), and consola/basic
 * touches it on import; the resident service logs through this instead.
 */
export function plainReporter(redact: (text: string) => string, allToStderr: () => boolean = () => false): ConsolaReporter {
  // An error is its message: never a stack or the bundled source around it (docs/SECURITY.md).
  const format = (arg: unknown): unknown => (arg instanceof Error || (arg && typeof (arg as Error).stack === "string") ? (arg as Error).message : arg);
  return {
    log(logObj: LogObject) {
      const line = [logObj.type && `[${logObj.type}]`, logObj.tag && `[${logObj.tag}]`, formatWithOptions({}, ...logObj.args.map(format))].filter(Boolean).join(" ");
      const data = redact(`${line}\n`);
      const fd = logObj.level < 2 || allToStderr() ? 2 : 1;
      try {
        writeSync(fd, data);
      } catch {
        // A non-blocking pipe that is full (EAGAIN): let the stream buffer it (the text is redacted already).
        (fd === 2 ? process.stderr : process.stdout).write(data);
      }
    },
  };
}
