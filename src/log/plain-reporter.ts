import { writeSync } from "node:fs";
import { formatWithOptions } from "node:util";
import type { ConsolaReporter, LogObject } from "consola/core";

/**
 * consola's basic format (`[type] message`, an error's stack indented below it) written straight to fd 1/2 through
 * `redact`. Touching `process.stdout` costs a Bun process ~4 MB (it builds the node stream stack), and consola/basic
 * touches it on import; the resident service logs through this instead.
 */
export function plainReporter(redact: (text: string) => string, fallback: () => { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): ConsolaReporter {
  const format = (arg: unknown): unknown => {
    if (arg instanceof Error || (arg && typeof (arg as Error).stack === "string")) {
      const error = arg as Error;
      const stack = (error.stack ?? "").split("\n").slice(error.message.split("\n").length).map((l) => `  ${l.trim()}`).join("\n");
      return `${error.message}${stack ? `\n${stack}` : ""}`;
    }
    return arg;
  };
  return {
    log(logObj: LogObject) {
      const line = [logObj.type && `[${logObj.type}]`, logObj.tag && `[${logObj.tag}]`, formatWithOptions({}, ...logObj.args.map(format))].filter(Boolean).join(" ");
      const data = redact(`${line}\n`);
      const fd = logObj.level < 2 ? 2 : 1;
      try {
        writeSync(fd, data);
      } catch {
        // A non-blocking pipe that is full (EAGAIN): let the stream buffer it.
        (fd === 2 ? fallback().stderr : fallback().stdout).write(data);
      }
    },
  };
}
