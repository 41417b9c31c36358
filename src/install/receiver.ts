import { outputTail } from "../process/output.ts";
/**
 * `install --receiver` on a host that gets its token pushed: the binary, a config with `"source": "push"` (detected
 * OpenClaw targets, or a prepared one), optionally the source's key in the login's authorized_keys with its forced
 * command, then a probe of `oauth-sync receive` as that login. No units: sshd starts `receive` for each push.
 */
import { join } from "node:path";
import { parseConfig } from "../config/load.ts";
import { DEFAULT_CONFIG_PATH } from "../config/defaults.ts";
import { MAX_BYTES, readRegularFile, readTextIfRegular } from "../fs/open-file.ts";
import { placeOf } from "../fs/place.ts";
import { logger, print } from "../log/logger.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { makeDirAsOwner, writeFileAsOwner } from "../privilege/owned-fs.ts";
import { parseAnswer } from "../push/answer.ts";
import { PROBE_MESSAGE } from "../push/message.ts";
import { receiverProblem } from "../push/targets.ts";
import { loadAccounts, type PasswdEntry } from "../users/accounts.ts";
import { detect, type Overrides } from "./detect.ts";
import { binaryDiffers, copyBinary } from "./install.ts";
import { proposeConfig } from "./propose.ts";
import { authorizedKeysLine, mergeAuthorizedKeys, parsePublicKey } from "./ssh-keys.ts";

export interface ReceiverOptions {
  /** A prepared config (text); otherwise one is proposed from what is detected here. */
  prepared?: string;
  overrides: Overrides;
  configPath?: string;
  binDir: string;
  login: string;
  authorizedKey?: string;
  authorizedKeysFile?: string;
  execPath: string;
}

export interface ReceiverDeps {
  run: ProcessRunner;
  /** Shows the proposed config and asks; false ends the install. */
  confirm: (configText: string) => Promise<boolean>;
}

export type ReceiverResult = { ok: true; forcedCommand: string; configPath: string; probe: string } | { ok: false; error: string };

export async function setupReceiver(o: ReceiverOptions, deps: ReceiverDeps): Promise<ReceiverResult> {
  const account = loadAccounts().byName(o.login);
  if (!account) return { ok: false, error: `--login ${o.login}: no such user here` };
  const configPath = o.configPath ?? (account.uid === 0 ? DEFAULT_CONFIG_PATH : join(account.home, ".config/oauth-sync/config.json"));
  const place = placeOf(configPath);
  if (!place.ok) return { ok: false, error: `${configPath}: ${place.message}` };
  if (place.actor.uid !== account.uid && place.actor.uid !== 0) return { ok: false, error: `${configPath} is in a place ${o.login} does not own: pass --config-path under ${account.home}` };
  if (account.uid !== 0 && place.actor.uid === 0) return { ok: false, error: `${configPath}: ${o.login} could not read a config in root's place: pass --config-path under ${account.home}` };

  const text = o.prepared !== undefined ? { ok: true as const, text: o.prepared } : await proposedReceiverConfig(o.overrides, deps.run);
  if (!text.ok) return text;
  const parsed = parseConfig(text.text, configPath);
  if (!parsed.ok) return { ok: false, error: parsed.errors.join("; ") };
  const problem = receiverProblem(parsed.config);
  if (problem) return { ok: false, error: problem };
  if (!o.prepared && !(await deps.confirm(text.text))) return { ok: false, error: "not confirmed" };
  // A login other than root writes only where it owns the place (root writes anywhere, as each place's owner).
  if (account.uid !== 0) {
    for (const target of parsed.config.targets) {
      const where = "path" in target ? placeOf(target.path) : undefined;
      if (where?.ok && where.actor.uid !== account.uid) logger.warn(`${o.login} cannot write ${"path" in target ? target.path : ""} (not theirs): receive as root, or as the owner of that place`);
    }
  }

  const current = readTextIfRegular(configPath, MAX_BYTES.config);
  if (current !== undefined && !/"source"\s*:\s*"push"/.test(current)) {
    return { ok: false, error: `${configPath} holds a config that follows a credentials file (is this the source host?): not replaced; pass --config-path, or remove it first` };
  }
  const binary = join(o.binDir, "oauth-sync");
  if (await binaryDiffers(o.execPath, binary)) await copyBinary(o.execPath, binary);
  await makeDirAsOwner(join(configPath, ".."));
  const wrote = await writeFileAsOwner(configPath, text.text, { newFileMode: 0o600 });
  print(`${configPath}: ${wrote === "written" ? "written" : "unchanged"}`);

  const forcedCommand = `${binary} receive${configPath === DEFAULT_CONFIG_PATH ? "" : ` --config ${configPath}`}`;
  const keysFile = o.authorizedKeysFile ?? join(account.home, ".ssh/authorized_keys");
  if (o.authorizedKey) {
    const key = parsePublicKey(o.authorizedKey);
    if (!key) return { ok: false, error: "--authorized-key is not a public key line (ssh-ed25519 AAAA… comment)" };
    await makeDirAsOwner(join(keysFile, ".."));
    // Read as root in the login's own directory: a hard link there could bring in a file that login may not read.
    const read = readRegularFile(keysFile, MAX_BYTES.config);
    if (read.ok && (read.info.nlink > 1 || (read.info.uid !== account.uid && read.info.uid !== 0))) {
      return { ok: false, error: `${keysFile} has ${read.info.nlink} links or belongs to uid ${read.info.uid}, not ${account.name}: not merged; fix it by hand` };
    }
    const existing = read.ok ? read.text : "";
    const line = authorizedKeysLine(key, forcedCommand);
    const written = await writeFileAsOwner(keysFile, mergeAuthorizedKeys(existing, key, line), { newFileMode: 0o600 });
    print(`${keysFile}: ${written === "written" ? "the key may now run only" : "already lets the key run only"} \`${forcedCommand}\``);
  } else {
    print(`Where the key goes: ${keysFile}, one line from \`oauth-sync install --push ${o.login}@<this host>${forcedCommand === "/usr/local/bin/oauth-sync receive" ? "" : ` --remote-command '${forcedCommand}'`}\` on the source host,`);
    print(`or run this again with --authorized-key 'ssh-ed25519 AAAA… oauth-sync@source' (the source's ${"/etc/oauth-sync/ssh/id_ed25519.pub"}).`);
  }
  await sshdAdvice(account, deps.run);
  const probe = await probeAs(binary, configPath, account, deps.run);
  if (!probe.ok) return probe;
  print(probe.detail);
  return { ok: true, forcedCommand, configPath, probe: probe.detail };
}

/** Detection as in `install`, without a Claude login: the same targets and gateway, with `"source": "push"`. */
async function proposedReceiverConfig(overrides: Overrides, run: ProcessRunner): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  const detection = await detect("/", overrides, { run, now: Date.now(), cwd: process.cwd() });
  if (!detection.install) return { ok: false, error: "no OpenClaw install found here: pass --openclaw-dir or --project-dir, or --config FILE" };
  const proposal = proposeConfig(detection.install.value, { path: "(pushed)", uid: 0, home: "" } as never, {
    claudeOnHost: false,
    gatewayUnit: detection.gatewayUnit,
    userGatewayUnits: detection.gatewayUnits.map((u) => u.value),
  });
  for (const note of proposal.notes.filter((n) => !n.includes("refresh trigger"))) logger.warn(note);
  const { credentials: _c, trigger: _t, ...rest } = proposal.config;
  return { ok: true, text: `${JSON.stringify({ source: "push", ...rest }, null, 2)}\n` };
}

/** sshd must let the login in with a key; root logins need PermitRootLogin prohibit-password or forced-commands-only. */
async function sshdAdvice(account: PasswdEntry, run: ProcessRunner) {
  const t = await run(["sshd", "-T"], { env: minimalEnv({ PATH: `/usr/sbin:/sbin:${process.env.PATH ?? "/usr/bin:/bin"}` }), timeoutMs: 10_000 });
  if (t.spawnError || t.code !== 0) return logger.warn("could not read sshd's settings (`sshd -T`): is openssh-server installed here?");
  const setting = (name: string) => new RegExp(`^${name} (\\S+)$`, "m").exec(t.stdout)?.[1];
  if (setting("pubkeyauthentication") === "no") logger.warn("sshd has PubkeyAuthentication no: the source's key cannot log in");
  const root = setting("permitrootlogin");
  if (account.uid === 0 && (root === "no" || root === undefined)) logger.warn("sshd has PermitRootLogin no: set `PermitRootLogin forced-commands-only` (the key can then run only its forced command)");
}

/** `receive` with a probe, as the login sshd will run it as: proves the binary runs for them and the config reads. */
async function probeAs(binary: string, configPath: string, account: PasswdEntry, run: ProcessRunner): Promise<{ ok: true; detail: string } | { ok: false; error: string }> {
  const result = await run([binary, "receive", "--config", configPath], {
    stdin: PROBE_MESSAGE,
    env: minimalEnv({ HOME: account.home }),
    timeoutMs: 30_000,
    ...(account.uid === 0 ? {} : { uid: account.uid, gid: account.gid }),
  });
  const answer = parseAnswer(result.stdout);
  if (!answer || answer.status !== "probe") return { ok: false, error: `\`${binary} receive\` as ${account.name} did not answer ready: ${answer?.detail ?? (result.spawnError || outputTail(result.stderr, 1) || `exit ${result.code}`)}` };
  return { ok: true, detail: answer.detail };
}
