declare const __OAUTH_SYNC_VERSION__: string | undefined;

/** Baked in by build.ts; "dev" when run from source. */
export const VERSION: string = typeof __OAUTH_SYNC_VERSION__ === "string" ? __OAUTH_SYNC_VERSION__ : "dev";
