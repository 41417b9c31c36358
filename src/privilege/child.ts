import { writeFileAtomic } from "../fs/atomic-write.ts";
import { openDir } from "../fs/walk.ts";
import { requireOwnPlace } from "../fs/place.ts";
import { closeSync } from "node:fs";
import { registerSecret } from "../log/redact.ts";
import { runProcess } from "../process/run.ts";
import { readBoundedStdin } from "../process/stdin.ts";
import { removeFileHere } from "./owned-fs.ts";
import { createLocalTarget } from "../targets/index.ts";
import type { OwnerAnswer, OwnerRequest } from "./protocol.ts";

const MAX_REQUEST = 8 * 1024 * 1024;
/** Root writes the request at once; the parent kills a child that takes longer than 30 s anyway. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The child's side: one request on stdin, one JSON answer line on stdout. Never runs as root. */
export async function serveOwnerRequest(): Promise<number> {
  if ((process.geteuid?.() ?? 0) === 0) return answer({ ok: false, error: "refusing to act as root: this verb is for a dropped user" }, 2);
  const read = await readBoundedStdin(MAX_REQUEST, REQUEST_TIMEOUT_MS);
  if (!read.ok) return answer({ ok: false, error: `bad request: ${read.message}` }, 2);
  let request: OwnerRequest;
  try {
    request = JSON.parse(read.text) as OwnerRequest;
  } catch (error) {
    return answer({ ok: false, error: `bad request: ${(error as Error).message}` }, 2);
  }
  try {
    return answer(await handle(request), 0);
  } catch (error) {
    return answer({ ok: false, error: (error as Error).message ?? String(error) }, 1);
  }
}

async function handle(request: OwnerRequest): Promise<OwnerAnswer> {
  switch (request.op) {
    case "sync-target": {
      registerSecret(request.credentials.accessToken);
      registerSecret(request.credentials.refreshToken);
      const target = createLocalTarget(request.target);
      const outcome = await target.sync(request.credentials, { now: request.now, state: request.state, run: runProcess, force: request.force === true });
      return { ok: true, outcome };
    }
    case "write-file":
      return { ok: true, written: await writeFileAtomic(request.path, request.data, { newFileMode: request.newFileMode, mode: request.mode }) };
    case "mkdir":
      closeSync(openDir(request.path, { create: true, check: requireOwnPlace }).fd);
      return { ok: true };
    case "unlink":
      removeFileHere(request.path);
      return { ok: true };
    default:
      return { ok: false, error: "unknown request" };
  }
}

function answer(value: OwnerAnswer, code: number): number {
  process.stdout.write(`${JSON.stringify(value)}\n`);
  return code;
}
