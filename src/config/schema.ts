import { gatewaySchema } from "../gateway/schema.ts";
import { notifySettings, refreshSettings, triggerSchema } from "../refresh/schema.ts";
import { describe, nonEmpty, z } from "./zod.ts";

const writeMode = describe(
  z._default(z.enum(["atomic", "in-place"]), "atomic"),
  '"atomic": temp file + rename. "in-place": same inode, for a file bind-mounted on its own into a container',
);
const profileId = describe(z._default(nonEmpty(), "anthropic:default"), "OpenClaw auth profile id");
const name = describe(z.optional(nonEmpty()), "Label for logs and status; defaults to kind and path");
const reload = (fallback: boolean) =>
  describe(z._default(z.boolean(), fallback), "Reload the gateway after this target changed (false: the gateway re-reads it on its own)");

export const authProfilesTargetSchema = z.strictObject({
  kind: z.literal("openclaw-auth-profiles"),
  name,
  path: describe(nonEmpty(), "agents/<id>/agent/auth-profiles.json (OpenClaw ≤ 2026.5)"),
  profileId,
  reload: reload(true),
  credentialType: describe(
    z._default(z.enum(["token", "oauth", "api_key"]), "token"),
    '"token" (default): access token only. "oauth" also hands OpenClaw the refresh token: see docs/FIELD-MAPPING.md',
  ),
  write: writeMode,
});

export const oauthJsonTargetSchema = z.strictObject({
  kind: z.literal("openclaw-oauth-json"),
  name,
  path: describe(nonEmpty(), "credentials/oauth.json (legacy; OpenClaw 2026.8+ refuses to start while it exists)"),
  provider: z._default(nonEmpty(), "anthropic"),
  reload: reload(true),
  write: writeMode,
});

export const envFileTargetSchema = z.strictObject({
  kind: z.literal("env-file"),
  name,
  path: describe(nonEmpty(), "A compose .env file"),
  variable: z._default(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name")), "ANTHROPIC_OAUTH_TOKEN"),
  reload: reload(true),
  write: writeMode,
});

export const openclawCliTargetSchema = z.strictObject({
  kind: z.literal("openclaw-cli"),
  name,
  command: describe(
    z._default(z.array(nonEmpty()).check(z.minLength(1)), ["openclaw"]),
    'argv prefix that runs openclaw, e.g. ["docker","compose","-f","/opt/openclaw/docker-compose.yml","exec","-T","openclaw-gateway","openclaw"]',
  ),
  profileId,
  env: describe(z._default(z.record(z.string(), z.string()), {}), "Extra environment for the command (e.g. HOME)"),
  timeoutSeconds: z._default(z.number().check(z.positive()), 120),
  reload: reload(false),
});

export const target = z.discriminatedUnion("kind", [authProfilesTargetSchema, oauthJsonTargetSchema, envFileTargetSchema, openclawCliTargetSchema]);

export const watchSettings = z.strictObject({
  quietMs: describe(z.int().check(z.minimum(0)), "Wait this long after the last event before syncing"),
  maxDelayMs: describe(z.int().check(z.minimum(0)), "Never wait longer than this after the first event"),
  reconcileSeconds: describe(z.number().check(z.positive()), "Sync anyway this often, to catch missed events (rare: the expiry checks are the real safety net)"),
  expiryChecksSeconds: z.optional(
    describe(z.array(z.number().check(z.positive())), "Sync anyway when the token the targets hold has this many seconds left, whatever the watcher saw (default [180, 60])"),
  ),
  retrySeconds: describe(z.number().check(z.positive()), "Retry a failed target after this long"),
});

export const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  credentials: describe(nonEmpty(), "Path of the Claude Code CLI credentials file (~/.claude/.credentials.json)"),
  targets: z.array(target).check(z.minLength(1, "list at least one target")),
  gateway: gatewaySchema,
  stateDir: describe(nonEmpty(), "Where oauth-sync keeps its state file"),
  watch: watchSettings,
  trigger: triggerSchema,
  refresh: refreshSettings,
  notify: notifySettings,
});

export type Config = z.infer<typeof configSchema>;
export type TargetConfig = z.infer<typeof target>;
export type FileTargetConfig = Exclude<TargetConfig, { kind: "openclaw-cli" }>;
