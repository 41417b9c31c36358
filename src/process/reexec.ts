import { dlopen, FFIType, ptr, type Pointer } from "bun:ffi";
import { selfCommand } from "../privilege/self.ts";

const LIBC = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"];

type Execve = (path: Pointer, argv: Pointer, envp: Pointer) => number;
type SigMask = (how: number, set: Pointer, old: Pointer | null) => number;
type WaitPid = (pid: number, status: Pointer | null, options: number) => number;
export interface Libc {
  execve: Execve;
  sigprocmask: SigMask;
  waitpid: WaitPid;
}

/** execve(2) and sigprocmask(2) from the C library, or why they are not at hand. Looked up before anything stops. */
export function findLibc(): { ok: true; libc: Libc } | { ok: false; error: string } {
  for (const name of LIBC) {
    try {
      const lib = dlopen(name, {
        execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
        sigprocmask: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
        waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      });
      return { ok: true, libc: lib.symbols as unknown as Libc };
    } catch {
      // the next name
    }
  }
  return { ok: false, error: `no C library found to call execve (${LIBC.join(", ")})` };
}

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIGHUP = 1;

/** A sigset_t (128 bytes on Linux) holding SIGHUP alone. */
function hangupSet(): Buffer {
  const set = Buffer.alloc(128);
  set[0] = 1 << (SIGHUP - 1);
  return set;
}

/**
 * SIGHUP is blocked across the execve: the mask is inherited, so a reload asked for while the new image starts stays
 * pending (instead of killing it: SIGHUP's default action) until `acceptHangups` once its handler is in place.
 */
export function acceptHangups(libc: Libc): void {
  libc.sigprocmask(SIG_UNBLOCK, ptr(hangupSet()), null);
}

const WNOHANG = 1;

/**
 * Children the previous image started and never waited for (one stuck past the stop's grace) are ours now and
 * nobody else's: the ones that have exited are reaped. Called before this image starts any child of its own, so
 * no status Bun waits for can be taken. Returns how many were reaped.
 */
export function reapOrphans(libc: Libc): number {
  let reaped = 0;
  while (libc.waitpid(-1, null, WNOHANG) > 0) reaped++;
  return reaped;
}

const cString = (text: string) => Buffer.from(`${text}\0`);

/** A NULL-terminated array of C strings; `keep` holds the buffers alive until the call. */
function cArray(list: string[], keep: Buffer[]): Pointer {
  const pointers = new BigUint64Array(list.length + 1);
  list.forEach((text, i) => {
    const buffer = cString(text);
    keep.push(buffer);
    pointers[i] = BigInt(ptr(buffer));
  });
  keep.push(Buffer.from(pointers.buffer));
  return ptr(pointers);
}

/**
 * Replaces this process with a fresh start of the same program and arguments: same pid (systemd's main process
 * stays), same environment, everything else (config, timers, watchers) built anew. Returns only on failure.
 * `/proc/self/exe` is the binary that is running, even if an upgrade has replaced the file since.
 */
export function reexecSelf(libc: Libc, args: string[], env: Record<string, string | undefined>): string {
  const [, ...script] = selfCommand();
  const keep: Buffer[] = [];
  const path = cString("/proc/self/exe");
  const argv = cArray(["oauth-sync", ...script, ...args], keep);
  const envp = cArray(
    Object.entries(env)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => `${key}=${value}`),
    keep,
  );
  const set = hangupSet();
  libc.sigprocmask(SIG_BLOCK, ptr(set), null);
  const rc = libc.execve(ptr(path), argv, envp);
  libc.sigprocmask(SIG_UNBLOCK, ptr(set), null);
  return `execve failed (${rc})`;
}
