import { gatewaySchema } from "./gateway.ts";
import { notifySettings } from "./notify.ts";
import { refreshSettings, triggerSchema } from "./refresh.ts";
import { sshTargetSchema } from "./ssh.ts";
import { defaultStateDir } from "./defaults.ts";
import { POINTER_PATTERN } from "../json/pointer.ts";
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
  kind: describe(z.literal("openclaw-cli"), "`openclaw models auth paste-token`, the token on stdin (the SQLite-era releases, 2026.6+; works on 2026.5 too)"),
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

const jsonPointer = () => z.string().check(z.regex(POINTER_PATTERN, 'a JSON pointer (RFC 6901) such as "/auth/token"'));
/** `/a` and `/a/b` cannot both be written: one is inside the other. */
const nested = (a: string, b: string) => a === b || b.startsWith(`${a}/`) || a.startsWith(`${b}/`);

export const jsonFileTargetSchema = z
  .strictObject({
    kind: describe(z.literal("json-file"), "Any JSON file: the access token (and, if asked, its expiry) at JSON-pointer locations, every other byte kept"),
    name,
    path: describe(nonEmpty(), "The JSON file (created with only these keys when it does not exist)"),
    tokenPointer: describe(jsonPointer(), 'Where the access token goes: an RFC 6901 JSON pointer, e.g. "/providers/anthropic/token" (`~1` stands for `/`, `~0` for `~`)'),
    expiresAtPointer: describe(z.optional(jsonPointer()), "Where the token's expiry goes (left out: the expiry is not written)"),
    expiresAtFormat: describe(
      z._default(z.enum(["ms", "s", "iso"]), "ms"),
      '"ms": milliseconds since the epoch (Claude Code\'s own unit), "s": seconds since the epoch, "iso": an ISO 8601 string',
    ),
    reload: reload(false),
    replaceNewer,
    write: writeMode,
  })
  .check(z.refine((t) => !t.expiresAtPointer || !nested(t.tokenPointer, t.expiresAtPointer), "tokenPointer and expiresAtPointer must name two separate places"));

/** The fields an `exec` target may ask for; the refresh token only where it runs as the login's own user. */
export const EXEC_FIELDS = ["accessToken", "expiresAt", "refreshToken"] as const;

export const execTargetSchema = z
  .strictObject({
    kind: describe(z.literal("exec"), "A program of yours, run as `user`, fed one JSON line on stdin (see docs/CONSUMERS.md)"),
    name,
    command: describe(
      z.array(nonEmpty()).check(z.minLength(1), z.refine((argv) => argv[0]!.startsWith("/") || !argv[0]!.includes("/"), "the program is an absolute path or a bare name")),
      "argv of the program: an absolute path, or a name looked up in /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin. Nothing secret here: the token goes on stdin",
    ),
    user: describe(
      nonEmpty(),
      "Run it as this user (a name or a uid). The program, its #! interpreter and their directories must be writable by nobody but root and this user",
    ),
    fields: describe(
      z._default(
        z.array(z.enum(EXEC_FIELDS)).check(
          z.minLength(1),
          z.refine((fields) => fields.includes("accessToken"), "must include accessToken"),
          z.refine((fields) => new Set(fields).size === fields.length, "lists a field twice"),
        ),
        (): Array<(typeof EXEC_FIELDS)[number]> => ["accessToken", "expiresAt"],
      ),
      'What the JSON line on stdin holds. "refreshToken" is sent only where `user` owns the Claude login (it is that login): anywhere else the target is refused',
    ),
    env: describe(
      z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a variable name")), z.string()), {}),
      "Extra environment for the program (e.g. KUBECONFIG; not secrets). PATH (root's directories), HOME, USER and LOGNAME (the user's) are always oauth-sync's",
    ),
    writes: describe(
      z._default(z.array(z.string().check(z.regex(/^\//, "an absolute path"))), []),
      "Directories the program writes (its own store): the service's sandbox (ProtectSystem=strict) lets it write nowhere else",
    ),
    timeoutSeconds: describe(z._default(z.number().check(z.positive()), 30), "Kill the program (and whatever it started) after this long"),
    reload: describe(z._default(z.boolean(), false), "Reload the gateway after this program took a new token (it usually does what its consumer needs itself)"),
    replaceNewer,
  });

export const target = z.discriminatedUnion("kind", [
  authProfilesTargetSchema,
  oauthJsonTargetSchema,
  envFileTargetSchema,
  jsonFileTargetSchema,
  openclawCliTargetSchema,
  execTargetSchema,
  sshTargetSchema,
]);

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
/** Targets that are a file on this host, read and written by oauth-sync (as the owner of its directory). */
export type FileTargetConfig = Exclude<TargetConfig, { kind: "openclaw-cli" | "exec" | "ssh" }>;
export type ExecTargetConfig = z.infer<typeof execTargetSchema>;
