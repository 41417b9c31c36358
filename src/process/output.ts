import { redact } from "../log/redact.ts";

/** The last `count` non-empty lines of a child's output, redacted: the part of it an error message may quote. */
export function outputTail(text: string, count = 1, separator = " | "): string {
  return redact(text).trim().split("\n").filter(Boolean).slice(-count).join(separator);
}
