import { gatewaySchema } from "./gateway.ts";
import { notifySettings } from "./notify.ts";
import { refreshSettings, triggerSchema } from "./refresh.ts";
import { sshTargetSchema } from "./ssh.ts";
import { defaultStateDir } from "./defaults.ts";
import { describe, nonEmpty, section, z } from "./zod.ts";

const writeMode = describe(
  z._default(z.enum(["atomic", "in-place"]), "atomic"),
  '"atomic": temp file + rename. "in-place": same inode, for a file bind-mounted on its own into a container',
);
const profileId = describe(z._default(nonEmpty(), "anthropic:default"), "OpenClaw auth profile id");
const name = describe(z.optional(nonEmpty()), "Label for logs and status; defaults to kind and path");
const replaceNewer = describe(
  z._default(z.boolean(), false),
  "Replace a token that expires after the credentials' one (e.g. a one-year `claude setup-token` login) instead of refusing; `sync --force` does it once",
);
const reload = (fallback: boolean) =>
  describe(z._default(z.boolean(), fallback), "Reload the gateway after this target changed (false: the gateway re-reads it on its own)");

export const authProfilesTargetSchema = z.strictObject({
  kind: describe(z.literal("openclaw-auth-profiles"), "OpenClaw's per-agent auth-profiles.json"),
  name,
  path: describe(nonEmpty(), "agents/<id>/agent/auth-profiles.json (OpenClaw ≤ 2026.5)"),
  profileId,
  reload: reload(true),
  replaceNewer,
  credentialType: describe(
    z._default(z.enum(["token", "oauth", "api_key"]), "token"),
    '"token" (default): access token only. "oauth" also hands OpenClaw the refresh token: see docs/FIELD-MAPPING.md',
  ),
  write: writeMode,
});

export const oauthJsonTargetSchema = z.strictObject({
  kind: describe(z.literal("openclaw-oauth-json"), "OpenClaw's legacy credentials/oauth.json"),
  name,
  path: describe(nonEmpty(), "credentials/oauth.json (legacy; OpenClaw 2026.8+ refuses to start while it exists)"),
  provider: describe(z._default(nonEmpty(), "anthropic"), "Key of the provider's entry in oauth.json"),
  reload: reload(true),
  replaceNewer,
  write: writeMode,
});

export const envFileTargetSchema = z.strictObject({
  kind: describe(z.literal("env-file"), "A dotenv file: one VARIABLE=token line, the other lines kept"),
  name,
  path: describe(nonEmpty(), "A compose .env file"),
  variable: describe(
    z._default(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name")), "ANTHROPIC_OAUTH_TOKEN"),
    "The variable that holds the token",
  ),
  reload: reload(true),
  replaceNewer,
  write: writeMode,
});

export const openclawCliTargetSchema = z.strictObject({
  kind: describe(z.literal("openclaw-cli"), "`openclaw models auth paste-token`, the token on stdin (the SQLite-era releases, 2026.8+)"),
  name,
  command: describe(
    z._default(z.array(nonEmpty()).check(z.minLength(1)), ["openclaw"]),
    'argv prefix that runs openclaw, e.g. ["docker","compose","-f","/opt/openclaw/docker-compose.yml","exec","-T","openclaw-gateway","openclaw"]',
  ),
  profileId,
  agent: describe(z.optional(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "an OpenClaw agent id"))), "Pass --agent ID: the agent whose store gets the token (needed once OpenClaw has several agents)"),
  env: describe(z._default(z.record(z.string(), z.string()), {}), "Extra environment for the command (e.g. HOME)"),
  user: describe(
    z.optional(nonEmpty()),
    "The user openclaw runs as on the host; must be the owner of its state directory (HOME/.openclaw or OPENCLAW_STATE_DIR), which is also the default",
  ),
  timeoutSeconds: describe(z._default(z.number().check(z.positive()), 120), "Kill the command after this long"),
  reload: reload(false),
  replaceNewer,
});

export const target = z.discriminatedUnion("kind", [authProfilesTargetSchema, oauthJsonTargetSchema, envFileTargetSchema, openclawCliTargetSchema, sshTargetSchema]);

export const watchSettings = z.strictObject({
  quietMs: describe(z._default(z.int().check(z.minimum(0)), 0), "Wait this long after the last event before syncing (the watcher batches ~50 ms itself)"),
  maxDelayMs: describe(z._default(z.int().check(z.minimum(0)), 500), "Never wait longer than this after the first event"),
  reconcileSeconds: describe(
    z._default(z.number().check(z.positive()), 1800),
    "Sync anyway this often, to catch missed events (rare: the expiry checks are the real safety net)",
  ),
  expiryChecksSeconds: describe(
    z._default(z.array(z.number().check(z.positive())), () => [180, 60]),
    "Sync anyway when the token the targets hold has this many seconds left, whatever the watcher saw",
  ),
  retrySeconds: describe(z._default(z.number().check(z.positive()), 30), "Retry a failed target after this long"),
});

/** No default here: it depends on who runs oauth-sync, so the JSON Schema leaves it out (see json-schema.ts). */
export const stateDir = describe(
  z._default(nonEmpty(), defaultStateDir),
  "Where oauth-sync keeps its state file (default: /var/lib/oauth-sync as root, else $XDG_STATE_HOME/oauth-sync, i.e. ~/.local/state/oauth-sync)",
);

export const configSchema = z.strictObject({
  $schema: describe(z.optional(z.string()), "JSON Schema for editors (`oauth-sync config schema` prints it); ignored by oauth-sync"),
  source: describe(
    z._default(z.enum(["credentials", "push"]), "credentials"),
    '"credentials" (default): follow the Claude Code CLI\'s file. "push": this host receives the token from another over ssh (`oauth-sync receive`, docs/MULTI-HOST.md); `credentials` is then not used',
  ),
  credentials: describe(
    z._default(nonEmpty(), "~/.claude/.credentials.json"),
    "Path of the Claude Code CLI credentials file; relative paths are resolved from the config file's directory; not used with source \"push\"",
  ),
  targets: describe(
    z.array(target).check(z.minLength(1, "list at least one target")),
    "Where the token goes: one entry per file or command, each with its `kind`",
  ),
  gateway: section(gatewaySchema, "How to reload the OpenClaw gateway after a target changed (default: no reload)"),
  stateDir,
  watch: section(watchSettings, "Timing of `watch`: coalescing events, reconcile and retry"),
  trigger: section(triggerSchema, "How the token gets refreshed before it expires (default: `claude auth status` on this host)"),
  refresh: section(refreshSettings, "When to trigger a refresh and how to retry"),
  notify: section(notifySettings, "Webhooks for problems that need a person (a dead login, failing targets or reloads)"),
});

export type Config = z.infer<typeof configSchema>;
export type TargetConfig = z.infer<typeof target>;
/** A target on this host; `ssh` targets are pushed to other hosts outside the sync pass (src/push/). */
export type LocalTargetConfig = Exclude<TargetConfig, { kind: "ssh" }>;
export type FileTargetConfig = Exclude<TargetConfig, { kind: "openclaw-cli" | "ssh" }>;
