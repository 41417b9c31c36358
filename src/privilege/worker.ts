import { closeSync, fstatSync, readFileSync, statSync } from "node:fs";
import type { LocalTargetConfig } from "../config/schema.ts";
import type { ClaudeCredentials } from "../credentials/parse.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { requireOwnPlace } from "../fs/place.ts";
import { openDir, startWalksFrom } from "../fs/walk.ts";
import { registerSecret } from "../log/redact.ts";
import { runProcess, type ProcessRunner } from "../process/run.ts";
import { LineSplitter } from "./lines.ts";
import { removeFileHere } from "./owned-fs.ts";
import { MAX_REQUEST_LINE, parseInit, type OwnerAnswer, type OwnerRequest, type SyncRecord, type SyncStatus, type WorkerInit, type WorkerReady } from "./protocol.ts";

/** What the worker needs of a target: to sync it with this process's rights (src/targets/index.ts, createLocalTarget). */
export interface LocalTarget {
  sync(credentials: ClaudeCredentials, context: { now: number; state: SyncRecord | undefined; run: ProcessRunner; force?: boolean }): Promise<{ status: SyncStatus; message?: string }>;
}

/** Root writes the init line at once; a worker that does not get it soon was started by mistake. */
const INIT_TIMEOUT_MS = 10_000;
/** After the last request, one full collection: the service runs without Bun's GC timer (src/process/service-runtime.ts). */
const COLLECT_AFTER_MS = 10_000;

/**
 * The worker's side of `oauth-sync __as-owner`, started by root as root with the directories it opened as extra file
 * descriptors. It reads the (non-secret) init line, then before anything else becomes the owner for good
 * (the owner's supplementary groups, gid, uid), checks that it is no longer root (no root id, group or capability
 * left), and tells root whether the owner could still read it (a host with fs.suid_dumpable=1: root warns), then
 * serves requests: one JSON line each, one answer line each, until root closes its stdin. `localTarget` is how
 * a target acts with this process's own rights (src/targets/index.ts, passed in by src/main.ts).
 */
export async function serveAsOwner(localTarget: (config: LocalTargetConfig) => LocalTarget): Promise<number> {
  const lines = stdinLines();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), INIT_TIMEOUT_MS)));
  const first = await Promise.race([lines.next(), late]);
  clearTimeout(timer);
  const init = first && !first.done ? parseInit(first.value) : undefined;
  if (!init) return ready({ ready: false, error: "no valid init line" }, 2);
  const dropped = dropTo(init);
  if (!dropped.ok) return ready({ ready: false, error: dropped.error }, 2);
  const handed = checkHanded(init);
  if (handed) return ready({ ready: false, error: handed }, 2);
  startWalksFrom(init.dirs.map((d) => ({ fd: d.fd, path: d.path, chain: d.chain })));
  ready({ ready: true, pid: process.pid, ...dropped.dumpability }, 0);

  let collect: ReturnType<typeof setTimeout> | undefined;
  for (;;) {
    const next = await lines.next();
    if (next.done) return 0;
    clearTimeout(collect);
    let id = -1;
    let answer: OwnerAnswer;
    try {
      const request = JSON.parse(next.value) as OwnerRequest & { id: number };
      id = request.id;
      answer = await handle(request, localTarget);
    } catch (error) {
      answer = { ok: false, error: (error as Error).message ?? String(error) };
    }
    process.stdout.write(`${JSON.stringify({ id, ...answer })}\n`);
    collect = setTimeout(() => Bun.gc(true), COLLECT_AFTER_MS);
  }
}

/**
 * Becomes the owner: groups first (only root may change them), then gid, then uid. Every thread of the process
 * changes with it (the C library's set*id broadcast), and the kernel marks a process whose credentials changed
 * non-dumpable: the owner can then neither ptrace it nor read its /proc files (memory, environment, open files).
 */
function dropTo(init: WorkerInit): { ok: true; dumpability: { dumpable: boolean; suidDumpable?: string } } | { ok: false; error: string } {
  if (init.uid === 0) return { ok: false, error: "refusing to act as root: this verb acts as another user" };
  if (process.geteuid?.() !== 0) return { ok: false, error: "not started as root: cannot become another user" };
  try {
    process.setgroups!(init.groups);
    process.setgid!(init.gid);
    process.setuid!(init.uid);
  } catch (error) {
    return { ok: false, error: `cannot become uid ${init.uid} gid ${init.gid}: ${(error as Error).message}` };
  }
  const status = readFileSync("/proc/self/status", "utf8");
  const ids = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, "m").exec(status)?.[1]?.trim().split(/\s+/).filter(Boolean).map(Number) ?? [];
  const caps = ["CapEff", "CapPrm"].map((name) => new RegExp(`^${name}:[ \\t]*(\\S+)$`, "m").exec(status)?.[1]);
  const all = (values: number[], want: number) => values.length === 4 && values.every((v) => v === want);
  const groups = [...new Set(ids("Groups"))].sort((a, b) => a - b);
  const wanted = [...new Set(init.groups)].sort((a, b) => a - b);
  if (!all(ids("Uid"), init.uid) || !all(ids("Gid"), init.gid) || groups.join() !== wanted.join() || groups.includes(0) || caps.some((c) => !c || /[^0]/.test(c))) {
    return { ok: false, error: `still privileged after becoming uid ${init.uid}: refused` };
  }
  // Files of a non-dumpable process under /proc/self belong to root, whoever runs it (proc(5), PR_SET_DUMPABLE).
  const dumpable = statSync("/proc/self/environ").uid !== 0;
  if (!dumpable) return { ok: true, dumpability: { dumpable } };
  let suidDumpable: string | undefined;
  try {
    suidDumpable = readFileSync("/proc/sys/fs/suid_dumpable", "utf8").trim();
  } catch {
    // /proc/sys hidden: the warning names no value
  }
  return { ok: true, dumpability: { dumpable, ...(suidDumpable ? { suidDumpable } : {}) } };
}

/** Each handed descriptor must be the directory root meant (a mix-up of numbers would write elsewhere). */
function checkHanded(init: WorkerInit): string | undefined {
  for (const dir of init.dirs) {
    try {
      const info = fstatSync(dir.fd);
      if (!info.isDirectory() || info.dev !== dir.dev || info.ino !== dir.ino) return `descriptor ${dir.fd} is not ${dir.path} as root opened it`;
    } catch (error) {
      return `descriptor ${dir.fd} for ${dir.path}: ${(error as Error).message}`;
    }
  }
  return undefined;
}

async function handle(request: OwnerRequest, localTarget: (config: LocalTargetConfig) => LocalTarget): Promise<OwnerAnswer> {
  switch (request.op) {
    case "sync-target": {
      registerSecret(request.credentials.accessToken);
      registerSecret(request.credentials.refreshToken);
      const target = localTarget(request.target);
      const outcome = await target.sync(request.credentials as ClaudeCredentials, { now: request.now, state: request.state, run: runProcess, force: request.force === true });
      return { ok: true, outcome: { status: outcome.status, ...(outcome.message ? { message: outcome.message } : {}) } };
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

function ready(value: WorkerReady, code: number): number {
  process.stdout.write(`${JSON.stringify(value)}\n`);
  return code;
}

/** stdin as lines, each at most MAX_REQUEST_LINE bytes; a longer one or invalid UTF-8 ends the stream. */
async function* stdinLines(): AsyncGenerator<string, void> {
  const splitter = new LineSplitter(MAX_REQUEST_LINE);
  for await (const chunk of Bun.stdin.stream()) {
    const split = splitter.push(chunk);
    if (!split.ok) return;
    yield* split.lines;
  }
}
