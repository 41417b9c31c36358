import { dirname } from "node:path";
import { writeFileAsOwner } from "../../privilege/owned-fs.ts";
import { readCredentialsText } from "../../credentials/read.ts";
import { fingerprint, registerSecret } from "../../log/redact.ts";
import { inspectLogin } from "../inspect.ts";
import type { DirectTriggerConfig } from "../../config/refresh.ts";
import { refreshDue } from "../window.ts";
import { takeCliLocks } from "./lock.ts";
import { directBackoffMs, mergeTokens, parseTokenAnswer, TOKEN_URL, tokenRequestBody, type TokenAnswer } from "./token.ts";

export interface DirectDeps {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** The HTTP client; Bun's fetch honours HTTPS_PROXY/NO_PROXY and NODE_EXTRA_CA_CERTS like the CLI does. */
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  log?: (line: string) => void;
}

export type DirectResult =
  | { kind: "refreshed"; expiresAt: number; fingerprint: string; waitedMs: number; warning?: string }
  /** Under the lock the file was already fresh: the CLI (or another refresher) got there first. */
  | { kind: "not-needed"; expiresAt: number }
  | { kind: "dead"; message: string; deadRefreshFingerprint: string }
  | { kind: "transient"; message: string }
  | { kind: "misconfigured"; message: string };

/**
 * Refresh without the CLI, as the CLI does it: its locks, the file re-read under them, refresh only if still
 * needed, write back atomically keeping every other key. 429/5xx/network errors back off and retry (outside the
 * lock); invalid_grant is a dead login. Off by default (`trigger.mode: "direct"`): two refreshers of one login must
 * never both spend the refresh token, and the locks only protect against a CLI that takes them too.
 */
export async function directRefresh(credentials: string, settings: DirectTriggerConfig, windowMs: number, deps: DirectDeps, force = false): Promise<DirectResult> {
  let firstExpiry: number | undefined;
  let last = "no attempt";
  let retryAfter: number | undefined;
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    if (attempt > 1) await deps.sleep(directBackoffMs(attempt - 1, deps.random, retryAfter));
    retryAfter = undefined;
    const lock = await takeCliLocks(dirname(credentials), {
      staleMs: settings.lockStaleSeconds * 1000,
      waitMs: settings.lockWaitSeconds * 1000,
      now: deps.now,
      sleep: deps.sleep,
    });
    if (!lock.ok) {
      last = lock.message;
      deps.log?.(`direct refresh attempt ${attempt}: ${last}`);
      continue;
    }
    try {
      if (lock.waitedMs > 50) deps.log?.(`waited ${lock.waitedMs} ms for the CLI's lock`);
      const read = readCredentialsText(credentials);
      if (!read.ok) return { kind: "misconfigured", message: read.message };
      const text = read.text;
      const login = inspectLogin(text, credentials);
      if (login.kind === "blanked") return { kind: "dead", message: `${credentials} is blanked (the login was rejected earlier)`, deadRefreshFingerprint: fingerprint("") };
      if (login.kind !== "live") return { kind: "misconfigured", message: login.message };
      firstExpiry ??= login.expiresAt;
      // Re-read under the lock: someone refreshed while we waited, or it is not time yet.
      if (login.expiresAt > firstExpiry || (!force && refreshDue(login, deps.now(), windowMs).action === "wait")) {
        return { kind: "not-needed", expiresAt: login.expiresAt };
      }
      const refreshToken = JSON.parse(text).claudeAiOauth.refreshToken as string | undefined;
      if (!refreshToken) return { kind: "dead", message: `${credentials} has no refresh token`, deadRefreshFingerprint: fingerprint("") };
      registerSecret(refreshToken);
      const answer = await post(refreshToken, settings.timeoutSeconds * 1000, deps);
      if (answer.kind === "ok") {
        registerSecret(answer.tokens.accessToken);
        registerSecret(answer.tokens.refreshToken);
        await writeFileAsOwner(credentials, mergeTokens(text, answer.tokens));
        return { kind: "refreshed", expiresAt: answer.tokens.expiresAt, fingerprint: fingerprint(answer.tokens.accessToken), waitedMs: lock.waitedMs, warning: answer.warning };
      }
      if (answer.kind === "dead") return { kind: "dead", message: answer.message, deadRefreshFingerprint: fingerprint(refreshToken) };
      if (answer.kind === "rejected") return { kind: "transient", message: answer.message };
      last = answer.message;
      retryAfter = answer.retryAfterMs;
      deps.log?.(`direct refresh attempt ${attempt}/${settings.attempts}: ${last}`);
    } finally {
      await lock.release();
    }
  }
  return { kind: "transient", message: `${last} (after ${settings.attempts} attempt(s))` };
}

async function post(refreshToken: string, timeoutMs: number, deps: DirectDeps): Promise<TokenAnswer> {
  try {
    const response = await deps.fetch(TOKEN_URL, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: tokenRequestBody(refreshToken),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    return parseTokenAnswer(response.status, body, response.headers.get("retry-after"), deps.now());
  } catch (error) {
    // Only the error's kind: a message could quote the request.
    const e = error as { name?: string; code?: string };
    const kind = e.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : (e.code ?? e.name ?? "network error");
    return { kind: "retry", message: `token endpoint unreachable: ${kind}` };
  }
}
