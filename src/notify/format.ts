import { discordContent, jsonBody, mattermostText, ntfyText, ntfyTitle, slackText } from "../log/sanitize.ts";
import type { WebhookConfig } from "../config/notify.ts";
import type { NotifyEvent } from "./event.ts";

export interface Request {
  body: string;
  headers: Record<string, string>;
}

const JSON_HEADERS = { "content-type": "application/json" };

/**
 * Pure: one event as the body a receiver of this format expects. An event quotes errors from programs and files we
 * do not own, so each format's text is made safe here, by that format's rules (src/log/sanitize.ts): secrets
 * redacted, control characters visible, one line per part, and the markup that could ping, link or format escaped.
 */
export function formatEvent(event: NotifyEvent, format: WebhookConfig["format"]): Request {
  switch (format) {
    case "mattermost":
      return { body: JSON.stringify({ text: `#### ${mattermostText(event.title)}\n${mattermostText(event.text)}` }), headers: JSON_HEADERS };
    case "slack":
      return { body: JSON.stringify({ text: `*${slackText(event.title)}*\n${slackText(event.text)}` }), headers: JSON_HEADERS };
    case "discord":
      // No mention of anyone or any role pings, whatever the text says.
      return { body: JSON.stringify({ content: discordContent(event.title, event.text), allowed_mentions: { parse: [] } }), headers: JSON_HEADERS };
    case "ntfy":
      return {
        body: ntfyText(event.text),
        headers: { "content-type": "text/plain; charset=utf-8", title: ntfyTitle(event.title), priority: event.severity === "error" ? "high" : "default", tags: `oauth-sync,${event.kind}` },
      };
    case "json":
      return {
        body: jsonBody({
          source: "oauth-sync",
          event: event.kind,
          severity: event.severity,
          title: event.title,
          message: event.text,
          host: event.host,
          at: new Date(event.at).toISOString(),
          details: event.details ?? {},
        }),
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
