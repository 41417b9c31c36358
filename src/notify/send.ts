import { logger } from "../log/logger.ts";
import { backoffMs } from "../schedule/backoff.ts";
import { registerSecret } from "../log/redact.ts";
import type { NotifySettings, WebhookConfig } from "../config/notify.ts";
import type { NotifyEvent } from "./event.ts";
import { formatEvent, webhookLabel } from "./format.ts";

export interface SendDeps {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  sleep: (ms: number) => Promise<void>;
}

export interface Delivery {
  label: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

/** Webhook URLs carry their secret in the path or query: the redactor hides them wherever they might show up. */
export function registerWebhookSecrets(webhooks: WebhookConfig[]): void {
  for (const webhook of webhooks) {
    registerSecret(webhook.url, { configured: true });
    try {
      const url = new URL(webhook.url);
      if (url.pathname.length > 8) registerSecret(url.pathname, { configured: true });
      if (url.search.length > 8) registerSecret(url.search, { configured: true });
    } catch {
      // not a URL: the whole string is registered
    }
  }
}

async function deliver(webhook: WebhookConfig, label: string, event: NotifyEvent, settings: NotifySettings, deps: SendDeps): Promise<Delivery> {
  const request = formatEvent(event, webhook.format);
  let error = "";
  const tries = settings.retries + 1;
  for (let attempt = 1; attempt <= tries; attempt++) {
    if (attempt > 1) await deps.sleep(backoffMs(attempt - 1, { lastMs: 60_000 }));
    try {
      const response = await deps.fetch(webhook.url, {
        method: "POST",
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(settings.timeoutSeconds * 1000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { label, ok: true, attempts: attempt };
      error = `HTTP ${response.status}`;
      if (response.status !== 429 && response.status < 500) return { label, ok: false, attempts: attempt, error };
    } catch (caught) {
      // Only the kind of error: fetch messages can quote the URL.
      const e = caught as { name?: string; code?: string };
      error = e.name === "TimeoutError" ? `no answer within ${settings.timeoutSeconds} s` : (e.code ?? e.name ?? "network error");
    }
  }
  return { label, ok: false, attempts: tries, error };
}

/** Send one event to every webhook in parallel; failures are logged (by label) and returned, never thrown. */
export async function notifyAll(event: NotifyEvent, settings: NotifySettings, deps: SendDeps): Promise<Delivery[]> {
  registerWebhookSecrets(settings.webhooks);
  const results = await Promise.all(settings.webhooks.map((w, i) => deliver(w, webhookLabel(w, i), event, settings, deps)));
  for (const r of results) {
    if (r.ok) logger.debug(`notify ${event.kind}: ${r.label} ok`);
    else logger.warn(`notify ${event.kind}: ${r.label} failed after ${r.attempts} attempt(s): ${r.error}`);
  }
  return results;
}

export const realSendDeps: SendDeps = { fetch: (url, init) => fetch(url, init), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
