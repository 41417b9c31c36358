import { describeFsError } from "../fs/errors.ts";
import { MAX_BYTES, readRegularFile } from "../fs/open-file.ts";
import { registerSecret } from "../log/redact.ts";
import { parseCredentials, type CredentialsResult } from "./parse.ts";

/**
 * The CLI's file, read without following a link someone else planted, without blocking on a FIFO and up to a
 * size cap; a file with more than one hard link is refused (it could be another login's file linked in).
 */
export async function readCredentials(file: string, now: number): Promise<CredentialsResult> {
  const read = readCredentialsText(file);
  if (!read.ok) return { ok: false, reason: "unreadable", message: read.message };
  const result = parseCredentials(read.text, file, now);
  if (result.ok) {
    registerSecret(result.credentials.accessToken);
    registerSecret(result.credentials.refreshToken);
  }
  return result;
}

export function readCredentialsText(file: string): { ok: true; text: string } | { ok: false; message: string; code: string } {
  const read = readRegularFile(file, MAX_BYTES.credentials);
  if (!read.ok) return { ok: false, code: read.code, message: describeFsError("read credentials", file, read) };
  if (read.info.nlink > 1) {
    return { ok: false, code: "EMLINK", message: `cannot read credentials ${file}: it has ${read.info.nlink} hard links (the CLI never makes any): refused` };
  }
  return { ok: true, text: read.text };
}
