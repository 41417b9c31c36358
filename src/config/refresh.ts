import { describe, nonEmpty, z } from "./zod.ts";

/** The CLI refreshes only within its last 5 minutes: a window wider than that would trigger runs that do nothing. */
export const CLI_WINDOW_SECONDS = 300;

const command = describe(
  z._default(z.enum(["auth-status", "prompt"]), "auth-status"),
  '"auth-status" (default): `claude auth status`, no model call. "prompt": `claude -p "say ok"`, one model call per trigger',
);
const claude = describe(z._default(nonEmpty(), "claude"), "The claude executable (host: path or name on PATH; container: inside the container)");
const timeoutSeconds = describe(z._default(z.number().check(z.positive()), 60), "Kill one CLI run after this long");
const env = describe(
  z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a variable name")), z.string()), {}),
  "Extra environment for the CLI (not secrets: container mode puts them on the docker command line)",
);

export const hostTrigger = z.strictObject({
  mode: describe(z._default(z.literal("host"), "host"), "Run the Claude Code CLI on this machine (the default mode)"),
  command,
  claude,
  user: describe(z.optional(nonEmpty()), "Run the CLI as this user (default: the owner of the credentials file when oauth-sync runs as root)"),
  home: describe(z.optional(nonEmpty()), "HOME for the CLI (default: that user's home)"),
  configDir: describe(
    z.optional(nonEmpty()),
    "CLAUDE_CONFIG_DIR for the CLI (default: the credentials file's directory unless it is HOME/.claude)",
  ),
  timeoutSeconds,
  env,
});

export const containerTrigger = z.strictObject({
  mode: describe(z.literal("container"), "Run the Claude Code CLI inside a container with `docker exec`"),
  command,
  claude,
  container: describe(nonEmpty(), "Container running the CLI (`docker exec … CONTAINER claude …`)"),
  user: describe(z.optional(nonEmpty()), "`docker exec -u USER`"),
  docker: describe(z._default(nonEmpty(), "docker"), "The docker CLI"),
  baseUrlOverride: describe(
    z._default(z.union([z.boolean(), z.string().check(z.regex(/^https?:\/\//, "an http(s) URL"))]), false),
    "true (or a URL): pass -e ANTHROPIC_BASE_URL=https://api.anthropic.com for this exec, when the container points the CLI at a proxy such as LiteLLM",
  ),
  timeoutSeconds,
  env,
});

export const directTrigger = z.strictObject({
  mode: describe(z.literal("direct"), "oauth-sync requests the token itself, taking the CLI's lock (see docs/HOW-TOKEN-REFRESH-WORKS.md)"),
  attempts: describe(z._default(z.int().check(z.minimum(1)), 4), "Tries per refresh on 429/5xx/network errors, with backoff"),
  timeoutSeconds: describe(z._default(z.number().check(z.positive()), 30), "Give up on one token request after this long"),
  lockStaleSeconds: describe(z._default(z.number().check(z.positive()), 10), "A CLI lock directory older than this is stale (the CLI's own rule)"),
  lockWaitSeconds: describe(z._default(z.number().check(z.positive()), 30), "Wait at most this long for the CLI's lock"),
});

export const noTrigger = z.strictObject({ mode: describe(z.literal("none"), "Never trigger a refresh: something else keeps the CLI's token fresh") });

export const triggerSchema = z.discriminatedUnion("mode", [hostTrigger, containerTrigger, directTrigger, noTrigger]);

export const refreshSettings = z.strictObject({
  windowSeconds: describe(
    z._default(z.number().check(z.positive(), z.maximum(CLI_WINDOW_SECONDS - 10, "must stay inside the CLI's own 5-minute window (at most 290)")), 240),
    "Trigger the CLI when this little time is left (default 240: inside the CLI's own 5 minutes)",
  ),
  retrySeconds: describe(z._default(z.number().check(z.positive()), 30), "After a trigger that did not refresh, try again this soon"),
  slowRetrySeconds: describe(z._default(z.number().check(z.positive()), 300), "Once the token has been expired for slowAfterSeconds, retry only this often"),
  slowAfterSeconds: describe(z._default(z.number().check(z.minimum(0)), 3600), "How long after expiry to keep retrying every retrySeconds"),
  confirmTries: describe(z._default(z.int().check(z.minimum(1)), 3), "CLI runs per trigger before it counts as failed (the CLI sometimes skips its refresh)"),
  flagFile: describe(z.optional(nonEmpty()), "REAUTH_NEEDED flag file (default: in the OpenClaw directory of the first file target, else stateDir)"),
});

export type TriggerConfig = z.infer<typeof triggerSchema>;
export type HostTriggerConfig = z.infer<typeof hostTrigger>;
export type ContainerTriggerConfig = z.infer<typeof containerTrigger>;
export type DirectTriggerConfig = z.infer<typeof directTrigger>;
export type RefreshSettings = z.infer<typeof refreshSettings>;
