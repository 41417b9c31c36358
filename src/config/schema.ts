import { z } from "zod";
import { gatewaySchema } from "../gateway/schema.ts";

const writeMode = z
  .enum(["atomic", "in-place"])
  .default("atomic")
  .describe('"atomic": temp file + rename. "in-place": same inode, for a file bind-mounted on its own into a container');
const profileId = z.string().min(1).default("anthropic:default").describe("OpenClaw auth profile id");
const name = z.string().min(1).optional().describe("Label for logs and status; defaults to kind and path");
const reload = (fallback: boolean) =>
  z.boolean().default(fallback).describe("Reload the gateway after this target changed (false: the gateway re-reads it on its own)");

export const authProfilesTargetSchema = z.strictObject({
  kind: z.literal("openclaw-auth-profiles"),
  name,
  path: z.string().min(1).describe("agents/<id>/agent/auth-profiles.json (OpenClaw ≤ 2026.5)"),
  profileId,
  reload: reload(true),
  credentialType: z
    .enum(["token", "oauth", "api_key"])
    .default("token")
    .describe('"token" (default): access token only. "oauth" also hands OpenClaw the refresh token: see docs/FIELD-MAPPING.md'),
  write: writeMode,
});

export const oauthJsonTargetSchema = z.strictObject({
  kind: z.literal("openclaw-oauth-json"),
  name,
  path: z.string().min(1).describe("credentials/oauth.json (legacy; OpenClaw 2026.8+ refuses to start while it exists)"),
  provider: z.string().min(1).default("anthropic"),
  reload: reload(true),
  write: writeMode,
});

export const envFileTargetSchema = z.strictObject({
  kind: z.literal("env-file"),
  name,
  path: z.string().min(1).describe("A compose .env file"),
  variable: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name")
    .default("ANTHROPIC_OAUTH_TOKEN"),
  reload: reload(true),
  write: writeMode,
});

export const openclawCliTargetSchema = z.strictObject({
  kind: z.literal("openclaw-cli"),
  name,
  command: z
    .array(z.string().min(1))
    .min(1)
    .default(["openclaw"])
    .describe('argv prefix that runs openclaw, e.g. ["docker","compose","-f","/opt/openclaw/docker-compose.yml","exec","-T","openclaw-gateway","openclaw"]'),
  profileId,
  env: z.record(z.string(), z.string()).default({}).describe("Extra environment for the command (e.g. HOME)"),
  timeoutSeconds: z.number().positive().default(120),
  reload: reload(false),
});

export const target = z.discriminatedUnion("kind", [authProfilesTargetSchema, oauthJsonTargetSchema, envFileTargetSchema, openclawCliTargetSchema]);


export const watchSettings = z.strictObject({
  quietMs: z.number().int().min(0).describe("Wait this long after the last event before syncing"),
  maxDelayMs: z.number().int().min(0).describe("Never wait longer than this after the first event"),
  reconcileSeconds: z.number().positive().describe("Sync anyway this often, to catch missed events"),
  retrySeconds: z.number().positive().describe("Retry a failed target after this long"),
});

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  credentials: z.string().min(1).describe("Path of the Claude Code CLI credentials file (~/.claude/.credentials.json)"),
  targets: z.array(target).min(1, "list at least one target"),
  gateway: gatewaySchema,
  stateDir: z.string().min(1).describe("Where oauth-sync keeps its state file"),
  watch: watchSettings,
});

export type Config = z.infer<typeof configSchema>;
export type TargetConfig = z.infer<typeof target>;
export type FileTargetConfig = Exclude<TargetConfig, { kind: "openclaw-cli" }>;
