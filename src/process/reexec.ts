import { dlopen, FFIType, ptr, type Pointer } from "bun:ffi";
import { selfCommand } from "../privilege/self.ts";

const LIBC = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"];

type Execve = (path: Pointer, argv: Pointer, envp: Pointer) => number;

/** execve(2) from the C library, or why it is not at hand. Looked up before anything is stopped. */
export function findExecve(): { ok: true; execve: Execve } | { ok: false; error: string } {
  for (const name of LIBC) {
    try {
      const lib = dlopen(name, { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
      return { ok: true, execve: lib.symbols.execve as unknown as Execve };
    } catch {
      // the next name
    }
  }
  return { ok: false, error: `no C library found to call execve (${LIBC.join(", ")})` };
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
export function reexecSelf(execve: Execve, args: string[], env: Record<string, string | undefined>): string {
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
  const rc = execve(ptr(path), argv, envp);
  return `execve failed (${rc})`;
}
