declare const __OAUTH_SYNC_BUILD__: Build | undefined;

/** What a bug report needs to know about this binary; baked in by build.ts. */
export interface Build {
  version: string;
  /** The commit built from (12 hex digits, "-dirty" with uncommitted changes), or "unknown" outside a checkout. */
  commit: string;
  /** That commit's date (ISO 8601), or "unknown". */
  date: string;
  /** The target triple: x86_64-linux-gnu, aarch64-linux-musl… */
  target: string;
  libc: "glibc" | "musl" | "unknown";
  /** The Bun runtime inside the binary. */
  bun: string;
}

/** From source (`bun src/main.ts`) nothing is baked: "dev" and what the running Bun says. */
export const BUILD: Build =
  typeof __OAUTH_SYNC_BUILD__ === "object" && __OAUTH_SYNC_BUILD__
    ? __OAUTH_SYNC_BUILD__
    : { version: "dev", commit: "unknown", date: "unknown", target: `${process.arch === "arm64" ? "aarch64" : process.arch === "x64" ? "x86_64" : process.arch}-linux`, libc: "unknown", bun: typeof Bun === "object" ? Bun.version : "unknown" };

export const VERSION: string = BUILD.version;

/** One line for `--version`: `oauth-sync 0.1.0 (commit 0123456789ab, 2026-05-01, x86_64-linux-gnu, glibc, bun 1.4.4)`. */
export function versionLine(build: Build = BUILD): string {
  return `oauth-sync ${build.version} (commit ${build.commit}, ${build.date}, ${build.target}, ${build.libc}, bun ${build.bun})`;
}
