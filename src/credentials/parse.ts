import { z } from "../config/zod.ts";

/** The part of ~/.claude/.credentials.json that oauth-sync uses. Other keys are kept by the CLI, not by us. */
const claudeAiOauth = z.looseObject({
  accessToken: z.string(),
  refreshToken: z.optional(z.string()),
  expiresAt: z.number(),
  scopes: z.optional(z.array(z.string())),
  subscriptionType: z.nullish(z.string()),
});

const credentialsFile = z.looseObject({ claudeAiOauth });

export interface ClaudeCredentials {
  accessToken: string;
  refreshToken?: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  subscriptionType?: string | null;
}

export type RefusalReason = "unreadable" | "malformed" | "missing-fields" | "logged-out" | "expired";

export type CredentialsResult =
  | { ok: true; credentials: ClaudeCredentials }
  | { ok: false; reason: RefusalReason; message: string };

/** Pure: the text of the CLI's credentials file → usable credentials, or the reason they must not be synced. */
export function parseCredentials(text: string, file: string, now: number): CredentialsResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse("malformed", `${file} is not valid JSON (half-written, or edited by hand): not synced`);
  }
  const parsed = credentialsFile.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join(".") || "(top level)").join(", ");
    return refuse("missing-fields", `${file} lacks a usable claudeAiOauth login (${fields}): run \`claude auth login\``);
  }
  const oauth = parsed.data.claudeAiOauth;
  if (oauth.accessToken === "" || oauth.expiresAt === 0) {
    return refuse(
      "logged-out",
      `${file} holds a blanked login (the CLI's refresh token was rejected): run \`claude auth login\` as the user who owns it`,
    );
  }
  if (oauth.expiresAt <= now) {
    return refuse(
      "expired",
      `${file} holds a token that expired at ${formatTime(oauth.expiresAt)}: let Claude Code refresh it (\`claude auth status\`)`,
    );
  }
  return {
    ok: true,
    credentials: {
      accessToken: oauth.accessToken,
      refreshToken: oauth.refreshToken || undefined,
      expiresAt: oauth.expiresAt,
      subscriptionType: oauth.subscriptionType,
    },
  };
}

/** ISO time of an epoch-milliseconds value, or the bare number when Date cannot represent it (toISOString would throw). */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}

function refuse(reason: RefusalReason, message: string): CredentialsResult {
  return { ok: false, reason, message };
}
