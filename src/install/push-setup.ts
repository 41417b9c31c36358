/**
 * `install --push user@host` on the source host: oauth-sync's own ssh key, the receiver's host key confirmed into
 * oauth-sync's own known_hosts, the ssh target added to the config, the authorized_keys line for the receiver, and a
 * round trip (a probe: nothing is written there).
 */
import { closeSync } from "node:fs";
import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { parseConfig } from "../config/load.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { MAX_BYTES, readTextIfRegular } from "../fs/open-file.ts";
import { readOwnFile } from "../fs/place.ts";
import { print } from "../log/logger.ts";
import { outputTail } from "../process/output.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { PROBE_MESSAGE } from "../push/message.ts";
import { pushOnce } from "../push/push-once.ts";
import { sshTargetSchema, type SshTargetConfig } from "../config/ssh.ts";
import { ensureDir } from "./no-follow.ts";
import { authorizedKeysLine, forcedCommandProblem, receiverForcedCommand, hostKeysIn, hostPattern, mergeKnownHosts, parsePublicKey, type HostKey, type PublicKey } from "./ssh-keys.ts";
import { DEFAULT_CONFIG_PATH, userConfigFile } from "../config/defaults.ts";

export const DEFAULT_KEY = "/etc/oauth-sync/ssh/id_ed25519";
/**
 * The forced command printed for a receiver's authorized_keys: the binary and config `install --receiver` puts there
 * for that login by default (root: /etc/oauth-sync; another login: its ~/.config/oauth-sync, its home guessed as
 * /home/USER), from a clean environment. `--remote-command` for anything else.
 */
export function defaultRemoteCommand(destination: string): string {
  const at = destination.lastIndexOf("@");
  const user = at > 0 ? destination.slice(0, at) : "root";
  const home = user === "root" ? "/root" : `/home/${user}`;
  const config = user === "root" ? DEFAULT_CONFIG_PATH : userConfigFile(home);
  return receiverForcedCommand("/usr/local/bin/oauth-sync", config, home) ?? "/usr/local/bin/oauth-sync receive";
}

export interface PushSetupOptions {
  destination: string;
  port: number;
  key: string;
  configPath: string;
  remoteCommand: string;
  knownHostsFrom?: string;
  hostFingerprint?: string;
  name?: string;
  yes: boolean;
  test: boolean;
}

export interface PushSetupDeps {
  run: ProcessRunner;
  /** Asks a yes/no question on the terminal; undefined when there is none. */
  confirm?: (question: string) => Promise<boolean>;
}

export type SetupResult = { ok: true; line: string; target: SshTargetConfig; tested?: string } | { ok: false; error: string };

export async function setupPush(o: PushSetupOptions, deps: PushSetupDeps): Promise<SetupResult> {
  const at = o.destination.lastIndexOf("@");
  const target = sshTargetSchema.safeParse({
    kind: "ssh",
    ...(o.name ? { name: o.name } : {}),
    user: at > 0 ? o.destination.slice(0, at) : "root",
    host: o.destination.slice(at + 1),
    port: o.port,
    identityFile: o.key,
    knownHostsFile: join(dirname(o.key), "known_hosts"),
  });
  if (!target.success) return { ok: false, error: `--push ${o.destination} --port ${o.port}: ${target.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
  const commandProblem = forcedCommandProblem(o.remoteCommand);
  if (commandProblem) return { ok: false, error: `--remote-command: ${commandProblem}` };
  const t = target.data;

  // The config and the host key first: nothing is made or changed for a host that is not confirmed.
  const planned = planConfig(o.configPath, t);
  if (!planned.ok) return planned;
  const hostKeys = await confirmedHostKeys(t, o, deps);
  if (!hostKeys.ok) return hostKeys;
  const key = await ensureKey(o.key, deps.run);
  if (!key.ok) return key;
  const pattern = hostPattern(t.host, t.port);
  const known = readTextIfRegular(t.knownHostsFile, MAX_BYTES.config) ?? "";
  if ((await writeFileAtomic(t.knownHostsFile, mergeKnownHosts(known, pattern, hostKeys.keys), { newFileMode: 0o600 })) === "written") {
    print(`${t.knownHostsFile}: ${pattern} → ${hostKeys.keys.map((k) => `${k.type} ${k.fingerprint}`).join(", ")}`);
  }
  const changed = (await writeFileAtomic(o.configPath, planned.text, { newFileMode: 0o600 })) === "written";
  print(changed ? `${o.configPath}: ssh target ${t.user}@${pattern} added` : `${o.configPath}: ssh target ${t.user}@${pattern} already there`);

  const line = authorizedKeysLine(key.key, o.remoteCommand);
  print(`\nOn ${t.host}, append this line to ~${t.user}/.ssh/authorized_keys (${t.user === "root" ? "/root/.ssh/authorized_keys" : `/home/${t.user}/.ssh/authorized_keys`}):\n\n${line}\n`);
  print(`or run there: oauth-sync install --receiver --login ${t.user} --authorized-key '${key.key.type} ${key.key.blob}${key.key.comment ? ` ${key.key.comment}` : ""}'\n`);
  if (!o.test) return { ok: true, line, target: t };
  if (deps.confirm && !o.yes) await deps.confirm(`Is the line in place on ${t.host}? (then the round trip is tested)`);
  const probe = await pushOnce(t, PROBE_MESSAGE, undefined, deps.run);
  if (probe.kind !== "held") return { ok: false, error: `round trip to ${t.user}@${pattern} failed: ${probe.error}` };
  print(`round trip ok: ${t.user}@${pattern} answered "${probe.answer.detail}"`);
  return { ok: true, line, target: t, tested: probe.answer.detail };
}

/** oauth-sync's own key (never the user's): made once, ed25519, 0600, in a 0700 directory. */
async function ensureKey(path: string, run: ProcessRunner): Promise<{ ok: true; key: PublicKey } | { ok: false; error: string }> {
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    // Made link by link in a place of ours alone (a directory another user owns is refused): ssh-keygen writes there.
    closeSync(ensureDir(dirname(path), 0o700).fd);
    const made = await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `oauth-sync@${hostname()}`, "-f", path], { env: minimalEnv(), timeoutMs: 30_000 });
    if (made.spawnError || made.code !== 0) return { ok: false, error: `ssh-keygen failed: ${made.spawnError ?? outputTail(made.stderr)}` };
    print(`made oauth-sync's own ssh key ${path} (ed25519, 0600)`);
  } else if ((info.mode & 0o077) !== 0) {
    return { ok: false, error: `${path} is readable by others (${(info.mode & 0o777).toString(8)}): \`chmod 600 ${path}\`` };
  }
  const key = parsePublicKey(readTextIfRegular(`${path}.pub`, MAX_BYTES.config) ?? "");
  if (!key) return { ok: false, error: `${path}.pub is missing or not a public key: \`ssh-keygen -y -f ${path} > ${path}.pub\`` };
  return { ok: true, key };
}

/** The receiver's host key, from a known_hosts file given, or scanned and confirmed (a fingerprint flag or a person). */
async function confirmedHostKeys(t: SshTargetConfig, o: PushSetupOptions, deps: PushSetupDeps): Promise<{ ok: true; keys: HostKey[] } | { ok: false; error: string }> {
  const pattern = hostPattern(t.host, t.port);
  if (o.knownHostsFrom) {
    const read = readOwnFile(o.knownHostsFrom, MAX_BYTES.config);
    if (!read.ok) return { ok: false, error: read.message };
    const keys = hostKeysIn(read.text, pattern);
    if (!keys.length) return { ok: false, error: `${o.knownHostsFrom} has no (unhashed) line for ${pattern}` };
    return { ok: true, keys };
  }
  const scan = await deps.run(["ssh-keyscan", "-T", "5", "-p", String(t.port), "--", t.host], { env: minimalEnv(), timeoutMs: 20_000 });
  const scanned = hostKeysIn(scan.stdout, pattern);
  if (!scanned.length) return { ok: false, error: `ssh-keyscan found no host key at ${pattern}: ${scan.spawnError ?? (outputTail(scan.stderr) || "no answer")}` };
  for (const k of scanned) print(`host key of ${pattern}: ${k.type} ${k.fingerprint}`);
  const check = "compare on that host: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`";
  if (o.hostFingerprint) {
    const match = scanned.filter((k) => k.fingerprint === o.hostFingerprint);
    if (!match.length) return { ok: false, error: `no host key of ${pattern} has the fingerprint ${o.hostFingerprint}: refused (${check})` };
    return { ok: true, keys: match };
  }
  if (!deps.confirm || o.yes) return { ok: false, error: `confirm the host key: pass --host-fingerprint SHA256:… or --known-hosts FILE (${check})` };
  if (!(await deps.confirm(`Are these the host keys of ${pattern}? (${check})`))) return { ok: false, error: "host key not confirmed" };
  return { ok: true, keys: scanned };
}

/** Pure-ish: the source's config with the ssh target in it: one per user@host:port, replaced when it is there already. */
function planConfig(configPath: string, target: SshTargetConfig): { ok: true; text: string } | { ok: false; error: string } {
  const read = readOwnFile(configPath, MAX_BYTES.config);
  if (!read.ok) return { ok: false, error: `${read.message} (install the source first with \`oauth-sync install\`, or pass --config-path)` };
  let raw: { targets?: unknown[] };
  try {
    raw = JSON.parse(read.text);
  } catch {
    return { ok: false, error: `${configPath} is not valid JSON` };
  }
  if ((raw as { source?: unknown }).source === "push") return { ok: false, error: `${configPath} is a receiving host's config ("source": "push"): run install --push on the host with the Claude login` };
  const targets = Array.isArray(raw.targets) ? raw.targets : [];
  const same = (t: unknown) => {
    const x = t as Partial<SshTargetConfig>;
    return x.kind === "ssh" && x.host === target.host && (x.port ?? 22) === target.port && x.user === target.user;
  };
  const previous = targets.find(same) as Record<string, unknown> | undefined;
  const entry = { ...previous, kind: "ssh", host: target.host, port: target.port, user: target.user, identityFile: target.identityFile, knownHostsFile: target.knownHostsFile, ...(target.name ? { name: target.name } : {}) };
  const next = { ...raw, targets: previous ? targets.map((t) => (same(t) ? entry : t)) : [...targets, entry] };
  const text = `${JSON.stringify(next, null, 2)}\n`;
  const parsed = parseConfig(text, configPath);
  if (!parsed.ok) return { ok: false, error: parsed.errors.join("; ") };
  return { ok: true, text };
}
