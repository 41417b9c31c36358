import { describe, nonEmpty, z } from "./zod.ts";

/** The `notify` section: where problems that need a person are sent, and how often. */
export const webhookSchema = z.strictObject({
  url: describe(z.string().check(z.regex(/^https?:\/\//, "an http(s) URL")), "Webhook URL (treated as a secret: never logged)"),
  format: describe(z.enum(["mattermost", "slack", "discord", "ntfy", "json"]), "Body shape the receiver expects"),
  name: describe(z.optional(nonEmpty()), "Label for logs (default: format and host)"),
});

export const notifySettings = z.strictObject({
  webhooks: describe(z._default(z.array(webhookSchema), []), "Where to send notifications (none: problems are only logged)"),
  timeoutSeconds: describe(z._default(z.number().check(z.positive()), 10), "Give up on one delivery after this long"),
  retries: describe(z._default(z.int().check(z.minimum(0)), 2), "Extra tries per delivery on a network error, 429 or 5xx"),
  reminderHours: describe(z._default(z.number().check(z.positive()), 4), "While a problem lasts, remind this often"),
  failureThreshold: describe(z._default(z.int().check(z.minimum(1)), 3), "Notify after this many failed sync passes or reloads in a row"),
  host: describe(z.optional(nonEmpty()), "Name of this machine in messages (default: the hostname)"),
});

export type NotifySettings = z.infer<typeof notifySettings>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
