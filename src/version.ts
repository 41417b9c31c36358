declare const __OAUTH_SYNC_VERSION__: string | undefined;
declare const __OAUTH_SYNC_BUILD__: Partial<BuildInfo> | undefined;

/** Baked in by build.ts; "dev" when run from source. */
export const VERSION: string = typeof __OAUTH_SYNC_VERSION__ === "string" ? __OAUTH_SYNC_VERSION__ : "dev";

/** What this binary is: its version, the commit it was built from and that commit's date (ISO 8601), for what. */
export interface BuildInfo {
  version: string;
  commit?: string;
  date?: string;
  target?: string;
  libc?: string;
  bun?: string;
}

/** Baked in by build.ts; from source only the version is known. */
export const BUILD: BuildInfo = { ...(typeof __OAUTH_SYNC_BUILD__ === "object" && __OAUTH_SYNC_BUILD__ ? __OAUTH_SYNC_BUILD__ : {}), version: VERSION };
