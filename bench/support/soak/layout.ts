import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox } from "../../../src/demo/sandbox.ts";
import type { SoakTarget } from "./classify.ts";
import { mountSmallTmpfs } from "./locks.ts";

/** The gateway: a `command` gateway that fails while the fault's flag file exists, and counts its runs. */
const GATEWAY_SCRIPT = `#!/bin/sh
echo run >> "$1/gateway.runs"
if [ -e "$1/gateway-fails" ]; then echo fail >> "$1/gateway.runs"; echo "gateway reload refused (soak fault)" >&2; exit 1; fi
exit 0
`;

/**
 * The demo's sandbox (Claude credentials, OpenClaw's auth-profiles.json, oauth.json and .env) plus a fourth target on
 * a small tmpfs (the full-disk fault), a gateway command that fails on request, no refresh trigger, a 1 s retry.
 */
export async function createSoakLayout() {
  const sandbox = await createSandbox("oauth-sync-soak-");
  const stateDir = join(sandbox.root, "state");
  const tmpfsDir = join(sandbox.root, "small");
  const gatewayFlag = join(sandbox.root, "gateway-fails");
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const targets: SoakTarget[] = [
    { kind: "openclaw-auth-profiles", path: sandbox.files.authProfiles },
    { kind: "openclaw-oauth-json", path: sandbox.files.oauthJson },
    { kind: "env-file", path: sandbox.files.envFile },
  ];
  const tmpfs = await mountSmallTmpfs(tmpfsDir);
  if (tmpfs.ok) targets.push({ kind: "env-file", path: join(tmpfsDir, ".env") });
  const script = join(sandbox.root, "gateway.sh");
  await writeFile(script, GATEWAY_SCRIPT, { mode: 0o700 });
  const config = {
    ...sandbox.config,
    targets: targets.map((t) => ({ kind: t.kind, path: t.path })),
    gateway: { kind: "command", command: ["/bin/sh", script, sandbox.root], settleSeconds: 0.05, timeoutSeconds: 10 },
    trigger: { mode: "none" },
    watch: { retrySeconds: 1 },
  };
  await writeFile(sandbox.configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  return { sandbox, stateDir, tmpfsDir, tmpfs, gatewayFlag, targets };
}
