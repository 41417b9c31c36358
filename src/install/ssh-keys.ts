import { createHash } from "node:crypto";

/** Pure helpers for the keys `install --push` and `install --receiver` handle: public keys, authorized_keys, known_hosts. */

export interface PublicKey {
  type: string;
  blob: string;
  comment?: string;
}

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

/** A public key line (`ssh-ed25519 AAAA… comment`), or undefined when it is not one. */
export function parsePublicKey(text: string): PublicKey | undefined {
  const [type, blob, ...rest] = text.trim().split(/\s+/);
  if (!type || !blob || !KEY_TYPES.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return undefined;
  const comment = rest.join(" ").replace(/[^\x20-\x7e]/g, "").slice(0, 100);
  return { type, blob, ...(comment ? { comment } : {}) };
}

/** OpenSSH's fingerprint of a key: SHA256 of the blob, base64 without padding. */
export function keyFingerprint(blob: string): string {
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** The command a key is forced to run may hold neither a quote nor a backslash nor a control character. */
export function forcedCommandProblem(command: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/["\\\x00-\x1f\x7f]/.test(command)) return "the remote command may hold no quote, backslash or control character";
  if (!/(^|\/)oauth-sync\b.*\breceive\b/.test(command)) return "the remote command must run `oauth-sync receive`";
  return undefined;
}

/** The PATH a receiver's forced command gives `receive`: the system's, never the client's. */
export const RECEIVER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The forced command for a receiver: `receive` started from a clean environment (`env -i`: no variable a client's
 * `SetEnv` got through an `AcceptEnv` reaches it, nor an OAUTH_SYNC_CONFIG), with its config always named. Paths
 * with white space, quotes or backslashes cannot be carried in `command="…"`: undefined.
 */
export function receiverForcedCommand(binary: string, configPath: string, home?: string): string | undefined {
  const plain = (s: string) => /^[^\s"\\]+$/.test(s);
  if (!plain(binary) || !plain(configPath)) return undefined;
  return `/usr/bin/env -i PATH=${RECEIVER_PATH}${home && plain(home) ? ` HOME=${home}` : ""} ${binary} receive --config ${configPath}`;
}

/** Patterns of sshd's AcceptEnv that carry no risk to a program: locale, time zone, colour. */
const SAFE_ACCEPTENV = /^(LANG|LANGUAGE|LC_[A-Z_*]*|TZ|COLORTERM|NO_COLOR)$/;

/**
 * Pure: what in `sshd -T` output lets a key holder set variables for the forced command's shell and what it starts:
 * AcceptEnv patterns beyond locale and time zone (LD_PRELOAD, `*`…), and PermitUserEnvironment.
 */
export function dangerousSshdEnvironment(sshdT: string): string[] {
  const problems: string[] = [];
  const accepted = [...sshdT.matchAll(/^acceptenv (.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
  const risky = accepted.filter((p) => !SAFE_ACCEPTENV.test(p));
  if (risky.length) problems.push(`sshd accepts the variable(s) ${risky.join(", ")} from clients (AcceptEnv)`);
  const user = /^permituserenvironment (.+)$/m.exec(sshdT)?.[1]?.trim();
  if (user && user !== "no") problems.push(`sshd has PermitUserEnvironment ${user}`);
  return problems;
}

/** The authorized_keys line that lets this key run `oauth-sync receive` and nothing else: no shell, pty or forwarding. */
export function authorizedKeysLine(key: PublicKey, command: string): string {
  return `restrict,command="${command}" ${key.type} ${key.blob}${key.comment ? ` ${key.comment}` : ""}`;
}

/** Pure: authorized_keys with this key's line in place: an older line for the same key is replaced, others kept. */
export function mergeAuthorizedKeys(existing: string, key: PublicKey, line: string): string {
  const kept = existing.split("\n").filter((l) => l.trim() !== "" && !l.includes(` ${key.type} ${key.blob}`) && !l.startsWith(`${key.type} ${key.blob}`));
  return `${[...kept, line].join("\n")}\n`;
}

/** How known_hosts names a host: `host` on port 22, `[host]:port` elsewhere. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export interface HostKey {
  type: string;
  blob: string;
  fingerprint: string;
}

/** Pure: the keys for `pattern` in known_hosts text (or ssh-keyscan output). Hashed names are not matched. */
export function hostKeysIn(text: string, pattern: string): HostKey[] {
  const keys: HostKey[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]!.startsWith("#") || fields[0]!.startsWith("@")) continue;
    if (!fields[0]!.split(",").includes(pattern)) continue;
    const key = parsePublicKey(`${fields[1]} ${fields[2]}`);
    if (key) keys.push({ type: key.type, blob: key.blob, fingerprint: keyFingerprint(key.blob) });
  }
  return keys;
}

/** Pure: known_hosts with exactly these keys for `pattern` (a host whose key changed is replaced, not doubled). */
export function mergeKnownHosts(existing: string, pattern: string, keys: HostKey[]): string {
  const kept = existing.split("\n").filter((line) => line.trim() !== "" && !line.trim().split(/\s+/)[0]!.split(",").includes(pattern));
  return `${[...kept, ...keys.map((k) => `${pattern} ${k.type} ${k.blob}`)].join("\n")}\n`;
}
