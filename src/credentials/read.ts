import { readFile } from "node:fs/promises";
import { describeFsError } from "../fs/errors.ts";
import { registerSecret } from "../log/redact.ts";
import { parseCredentials, type CredentialsResult } from "./parse.ts";

export async function readCredentials(file: string, now: number): Promise<CredentialsResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return { ok: false, reason: "unreadable", message: describeFsError("read credentials", file, error) };
  }
  const result = parseCredentials(text, file, now);
  if (result.ok) {
    registerSecret(result.credentials.accessToken);
    registerSecret(result.credentials.refreshToken);
  }
  return result;
}
