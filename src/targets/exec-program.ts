import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { closeFound, findFile, type FoundFile } from "../fs/open-file.ts";
import { decideChain } from "../fs/place.ts";
import { O_CLOEXEC, O_NONBLOCK } from "../fs/walk.ts";
import type { DirStep } from "../fs/walk.ts";

/** Where a bare program name is looked up: root's directories only, whatever PATH the service has. */
export const PROGRAM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export type Program = { ok: true; path: string } | { ok: false; message: string };

interface FileFacts {
  uid: number;
  mode: number;
}

/**
 * Pure: may a program at the end of `chain` run as `runAs`? Only where nobody but root and `runAs` could have put
 * it there or changed it: its directories by the rules of src/fs/trust.ts (the place's owner root or `runAs`), the
 * file owned by one of them, writable by neither group nor others, and executable.
 */
export function programProblem(path: string, placeOwner: { ok: true; uid: number } | { ok: false; message: string }, file: FileFacts, runAs: number): string | undefined {
  const trusted = (uid: number) => uid === 0 || uid === runAs;
  if (!placeOwner.ok) return `${path}: ${placeOwner.message}`;
  if (!trusted(placeOwner.uid)) return `${path} is in a directory of uid ${placeOwner.uid}, who could swap it for anything: it runs only from root's or its user's own directories`;
  if (!trusted(file.uid)) return `${path} belongs to uid ${file.uid}, who could change what runs: fix: \`chown root ${path}\``;
  if (file.mode & 0o022) return `${path} is writable by ${file.mode & 0o002 ? "every user" : "its group"}: fix: \`chmod go-w ${path}\``;
  if (!(file.mode & 0o111)) return `${path} is not executable: fix: \`chmod +x ${path}\``;
  return undefined;
}

/** Pure: the interpreter a `#!` line names, or undefined for a binary or a script without one. */
export function shebangInterpreter(head: Buffer): string | undefined {
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const line = head.toString("latin1", 2).split("\n")[0]!.trim();
  return line.split(/[ \t]+/)[0] || undefined;
}

/**
 * The program of an `exec` target, found and checked for `runAs`: a bare name in PROGRAM_PATH, links followed only
 * where root made them (src/fs/walk.ts), and its `#!` interpreter checked the same way. The path returned has no
 * link left in it. Checked before every run: a directory made writable since is refused at once.
 */
export function checkProgram(name: string, runAs: number): Program {
  if (name.startsWith("/")) {
    const program = checkOne(name, runAs, true);
    return program.ok || program.message !== MISSING ? program : { ok: false, message: `${name}: no such file` };
  }
  for (const dir of PROGRAM_PATH) {
    const program = checkOne(join(dir, name), runAs, true);
    if (program.ok || program.message !== MISSING) return program;
  }
  return { ok: false, message: `${name}: not found in ${PROGRAM_PATH.join(":")}` };
}

const MISSING = "missing";

function checkOne(path: string, runAs: number, followShebang: boolean): Program {
  let found: FoundFile | undefined;
  try {
    found = findFile(path);
    if (found.fd === undefined || !found.info) return { ok: false, message: MISSING };
    const real = join(found.dir.path, found.name);
    const problem = programProblem(real, ownerOf(found.dir.chain), { uid: found.info.uid, mode: found.info.mode }, runAs);
    if (problem) return { ok: false, message: problem };
    const interpreter = followShebang ? shebangInterpreter(head(found)) : undefined;
    if (interpreter) {
      if (!interpreter.startsWith("/")) return { ok: false, message: `${real}: its #! interpreter ${JSON.stringify(interpreter)} is not an absolute path` };
      const checked = checkOne(interpreter, runAs, false);
      if (!checked.ok) return { ok: false, message: `${real} runs ${interpreter}: ${checked.message === MISSING ? "not found" : checked.message}` };
    }
    return { ok: true, path: real };
  } catch (error) {
    return { ok: false, message: (error as { code?: string }).code === "ENOENT" ? MISSING : (error as Error).message };
  } finally {
    if (found) closeFound(found);
  }
}

function ownerOf(chain: DirStep[]): { ok: true; uid: number } | { ok: false; message: string } {
  const decision = decideChain(chain);
  return decision.ok ? { ok: true, uid: decision.actor.uid } : decision;
}

/** The first bytes of the file behind an O_PATH handle (a `#!` line is at most a page). */
function head(found: FoundFile): Buffer {
  const fd = openSync(`/proc/self/fd/${found.fd}`, O_NONBLOCK | O_CLOEXEC);
  try {
    const buffer = Buffer.alloc(256);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
