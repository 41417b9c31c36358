import { z } from "../config/zod.ts";

/** What a receiver says back: one JSON line on stdout, beside its exit code. Fingerprints and words, never a token. */
export type AnswerStatus = "written" | "unchanged" | "probe" | "refused" | "failed" | "reload-failed" | "misconfigured";

export interface Answer {
  status: AnswerStatus;
  /** The token the receiver holds now. */
  fingerprint?: string;
  expiresAt?: number;
  detail: string;
}

const answerSchema = z.object({
  receiver: z.literal("oauth-sync"),
  status: z.enum(["written", "unchanged", "probe", "refused", "failed", "reload-failed", "misconfigured"]),
  fingerprint: z.optional(z.string().check(z.regex(/^[0-9a-f]{12}$/))),
  expiresAt: z.optional(z.number()),
  detail: z.string(),
});

export function formatAnswer(answer: Answer): string {
  return `${JSON.stringify({ receiver: "oauth-sync", ...answer })}\n`;
}

/**
 * Pure: the receiver's stdout → its answer, read as hostile data (a receiver is another machine): the last line
 * that parses, known fields only, the detail cut short and stripped of control characters.
 */
export function parseAnswer(stdout: string): Answer | undefined {
  const lines = stdout.split("\n").filter((line) => line.trim().startsWith("{")).slice(-3).reverse();
  for (const line of lines) {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = answerSchema.safeParse(json);
    if (!parsed.success) continue;
    const { status, fingerprint, expiresAt, detail } = parsed.data;
    // eslint-disable-next-line no-control-regex
    return { status, fingerprint, expiresAt, detail: detail.replace(/[\x00-\x1f\x7f]/g, " ").slice(0, 300) };
  }
  return undefined;
}
