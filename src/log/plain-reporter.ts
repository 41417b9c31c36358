import { fstatSync, writeSync } from "node:fs";
import { formatWithOptions } from "node:util";
import type { ConsolaReporter, LogObject } from "consola/core";
import { logLine } from "./sanitize.ts";

/** A logged error is its message: never a stack or the bundled source around it (docs/SECURITY.md). */
export function messageOf(args: unknown[]): string {
  const format = (arg: unknown): unknown => (arg instanceof Error || (arg && typeof (arg as Error).stack === "string") ? (arg as Error).message : arg);
  return formatWithOptions({}, ...args.map(format));
}

/**
 * sd-daemon(3)'s priority of a consola level: errors 3, warnings 4, info 6, debug and trace 7; a success (something
 * changed: a refresh, a target updated, a reload) is a notice, 5, so a unit that keeps only notices and above
 * (`LogLevelMax=notice`, the backstop timer's check) still logs what it did.
 */
export function journalPriority(level: number, type?: string): number {
  if (level <= 0) return 3;
  if (level === 1) return 4;
  if (level >= 4) return 7;
  return type === "success" ? 5 : 6;
}

/**
 * Pure but for one fstat: is `fd` the stream systemd connected to the journal? `JOURNAL_STREAM` names its
 * `device:inode` (systemd.exec(5)); a child that inherited the variable but writes elsewhere does not match.
 */
export function isJournalStream(fd: number, journalStream = process.env.JOURNAL_STREAM): boolean {
  const match = /^(\d+):(\d+)$/.exec(journalStream ?? "");
  if (!match) return false;
  try {
    const info = fstatSync(fd, { bigint: true });
    return info.dev === BigInt(match[1]!) && info.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/**
 * consola's basic format (`[type] message`) written straight to fd 1/2 as one line through `logLine` (secrets
 * redacted, control characters and newlines made visible, so one event is one journal entry). Where the fd is the
 * journal, the line starts with its priority (`<3>` for an error) so `journalctl -p err` finds it. Touching
 * `process.stdout` costs a Bun process ~4 MB (it builds the node stream stack), and consola/basic touches it on
 * import; the resident service logs through this instead.
 */
export function plainReporter(allToStderr: () => boolean = () => false, journal: (fd: number) => boolean = cachedJournalCheck()): ConsolaReporter {
  return {
    log(logObj: LogObject) {
      const line = [logObj.type && `[${logObj.type}]`, logObj.tag && `[${logObj.tag}]`, messageOf(logObj.args)].filter(Boolean).join(" ");
      const fd = logObj.level < 2 || allToStderr() ? 2 : 1;
      const data = `${journal(fd) ? `<${journalPriority(logObj.level, logObj.type)}>` : ""}${logLine(line)}\n`;
      // A short write (a pipe nearly full) goes on where it stopped: a lost tail would glue the next entry to this one.
      const bytes = Buffer.from(data);
      let done = 0;
      try {
        while (done < bytes.length) done += writeSync(fd, bytes, done);
      } catch {
        // A non-blocking pipe that is full (EAGAIN): let the stream buffer the rest (the text is made safe already).
        (fd === 2 ? process.stderr : process.stdout).write(bytes.subarray(done));
      }
    },
  };
}

function cachedJournalCheck(): (fd: number) => boolean {
  const known = new Map<number, boolean>();
  return (fd) => {
    let journal = known.get(fd);
    if (journal === undefined) known.set(fd, (journal = isJournalStream(fd)));
    return journal;
  };
}
