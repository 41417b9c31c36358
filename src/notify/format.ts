import { redact } from "../log/redact.ts";
import type { WebhookConfig } from "../config/notify.ts";
import type { NotifyEvent } from "./event.ts";

export interface Request {
  body: string;
  headers: Record<string, string>;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Pure: one event as the body a receiver of this format expects. Everything passes through redact(). */
export function formatEvent(event: NotifyEvent, format: WebhookConfig["format"]): Request {
  const title = redact(event.title);
  const text = redact(event.text);
  switch (format) {
    case "mattermost":
      return { body: JSON.stringify({ text: `#### ${title}\n${text}` }), headers: JSON_HEADERS };
    case "slack":
      return { body: JSON.stringify({ text: `*${title}*\n${text}` }), headers: JSON_HEADERS };
    case "discord":
      return { body: JSON.stringify({ content: `**${title}**\n${text}`.slice(0, 2000) }), headers: JSON_HEADERS };
    case "ntfy":
      return {
        body: text,
        // HTTP headers carry Latin-1 only: keep the title plain.
        headers: { "content-type": "text/plain; charset=utf-8", title: title.replace(/[^\x20-\x7e]/g, "?"), priority: event.severity === "error" ? "high" : "default", tags: `oauth-sync,${event.kind}` },
      };
    case "json":
      return {
        body: redact(
          JSON.stringify({
            source: "oauth-sync",
            event: event.kind,
            severity: event.severity,
            title: event.title,
            message: event.text,
            host: event.host,
            at: new Date(event.at).toISOString(),
            details: event.details ?? {},
          }),
        ),
        headers: JSON_HEADERS,
      };
  }
}

/** A label for logs: the name, or the format and host. Never the URL's path or query (where webhook secrets live). */
export function webhookLabel(webhook: WebhookConfig, index: number): string {
  if (webhook.name) return webhook.name;
  let host = "?";
  try {
    host = new URL(webhook.url).host;
  } catch {
    // schema checked the scheme; a malformed rest shows as "?"
  }
  return `webhook ${index + 1} (${webhook.format}, ${host})`;
}
