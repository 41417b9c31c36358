const HINTS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied: run as the file's owner or root",
  EPERM: "operation not permitted",
  EROFS: "read-only file system: mount it read-write or choose another path",
  ENOSPC: "no space left on device: free some space",
  EISDIR: "is a directory, expected a file",
  ENOTDIR: "a parent is not a directory",
  EDQUOT: "disk quota exceeded",
  EBUSY: 'busy: a file bind-mounted on its own cannot be replaced by rename; set "write": "in-place" for this target',
};

/** One line a person can act on: what failed, where, and what to do. */
export function describeFsError(action: string, path: string, error: unknown): string {
  // Our own path errors (src/fs/walk.ts) already name the path and say what to do.
  if (isOwnPathError(error)) {
    const message = (error as { message: string }).message;
    return message.startsWith(path) ? `cannot ${action}: ${message}` : `cannot ${action} ${path}: ${message}`;
  }
  const code = typeof error === "object" && error !== null ? (error as { code?: string }).code : undefined;
  const hint = code ? HINTS[code] : undefined;
  const message = typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string" ? (error as { message: string }).message : String(error);
  const detail = hint ? `${hint} (${code})` : message;
  return `cannot ${action} ${path}: ${detail}`;
}

/**
 * What went wrong, without the path Node's message carries: for a lookup through an open directory that path is
 * `/proc/self/fd/N/name`, which means nothing to a person (the caller names the real path).
 */
export function errnoDetail(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: string }).code : undefined;
  const hint = code ? HINTS[code] : undefined;
  if (hint) return `${hint} (${code})`;
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/,? *\w* *'\/proc\/self\/fd\/[^']*'/g, "").replace(/\/proc\/self\/fd\/\d+\/?/g, "");
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: string }).code === code;
}

/** Refusals of src/fs/ that no retry will fix: a link, a FIFO or device, a huge file, a place someone else could redirect. */
export const REFUSAL_CODES: ReadonlySet<string> = new Set(["ELOOP", "EFTYPE", "EFBIG", "EUNSAFE", "EOWNER", "EMLINK"]);
const OWN_CODES = new Set([...REFUSAL_CODES, "ENOPROC"]);

function isOwnPathError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === "string" && typeof message === "string" && OWN_CODES.has(code);
}
