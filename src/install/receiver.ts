import { outputTail } from "../process/output.ts";
/**
 * `install --receiver` on a host that gets its token pushed: the binary, a config with `"source": "push"` (detected
 * OpenClaw targets, or a prepared one), optionally the source's key in the login's authorized_keys with its forced
 * command, then a probe of `oauth-sync receive` as that login. No units: sshd starts `receive` for each push.
 */
import { join } from "node:path";
import { parseConfig } from "../config/load.ts";
import { migrateConfig } from "../config/migrate.ts";
import { configSchema } from "../config/schema.ts";
import { mayBeLeftOut } from "../config/schema-walk.ts";
import { DEFAULT_CONFIG_PATH, userConfigFile } from "../config/defaults.ts";
import { MAX_BYTES, readRegularFile, readTextIfRegular } from "../fs/open-file.ts";
import { placeOf } from "../fs/place.ts";
import { logger, print } from "../log/logger.ts";
import { minimalEnv, type ProcessRunner } from "../process/run.ts";
import { makeDirAsOwner, writeFileAsOwner } from "../privilege/owned-fs.ts";
import { parseAnswer } from "../push/answer.ts";
import { PROBE_MESSAGE } from "../push/message.ts";
import { receiverProblem } from "../push/targets.ts";
import { loadAccounts, type PasswdEntry } from "../users/accounts.ts";
import { detect, type Overrides } from "../detect/detect.ts";
import { binaryDiffers, binarySource, installBinary } from "./install.ts";
import { proposeConfig } from "./propose.ts";
import { applyUpgrade, formatPlan, planUpgrade, type Json } from "./upgrade.ts";
import { authorizedKeysLine, dangerousSshdEnvironment, mergeAuthorizedKeys, parsePublicKey, receiverForcedCommand } from "./ssh-keys.ts";

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
  const configPath = o.configPath ?? (account.uid === 0 ? DEFAULT_CONFIG_PATH : userConfigFile(account.home));
  const place = placeOf(configPath);
  if (!place.ok) return { ok: false, error: `${configPath}: ${place.message}` };
  if (place.actor.uid !== account.uid && place.actor.uid !== 0) return { ok: false, error: `${configPath} is in a place ${o.login} does not own: pass --config-path under ${account.home}` };
  if (account.uid !== 0 && place.actor.uid === 0) return { ok: false, error: `${configPath}: ${o.login} could not read a config in root's place: pass --config-path under ${account.home}` };

  const current = readTextIfRegular(configPath, MAX_BYTES.config);
  if (current !== undefined && !/"source"\s*:\s*"push"/.test(current)) {
    return { ok: false, error: `${configPath} holds a config that follows a credentials file (is this the source host?): not replaced; pass --config-path, or remove it first` };
  }
  const proposed = o.prepared !== undefined ? { ok: true as const, text: o.prepared } : await proposedReceiverConfig(o.overrides, deps.run);
  if (!proposed.ok) return proposed;
  const text = o.prepared !== undefined || current === undefined ? proposed : mergedOver(current, proposed.text, configPath);
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

  const binary = join(o.binDir, "oauth-sync");
  const forcedCommand = receiverForcedCommand(binary, configPath, account.home);
  if (!forcedCommand) return { ok: false, error: `${binary} or ${configPath} holds white space, a quote or a backslash, which a forced command cannot carry: choose other paths` };
  // The binary goes where root or the login alone can write (sshd runs it as the login): made there as that owner.
  const source = binarySource(o.execPath);
  if (await binaryDiffers(source, binary)) await installBinary(source, o.binDir, [0, account.uid]);
  await makeDirAsOwner(join(configPath, ".."));
  if (current !== undefined && o.prepared !== undefined && current !== text.text) {
    const backup = `${configPath}.${new Date().toISOString().replace(/[:.]/g, "-")}.bak`;
    await writeFileAsOwner(backup, current, { newFileMode: 0o600 });
    print(`kept the config that was there as ${backup}`);
  }
  const wrote = await writeFileAsOwner(configPath, text.text, { newFileMode: 0o600 });
  print(`${configPath}: ${wrote === "written" ? "written" : "unchanged"}`);

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
    print(`Where the key goes: ${keysFile}, one line from \`oauth-sync install --push ${o.login}@<this host> --remote-command '${forcedCommand}'\` on the source host,`);
    print(`or run this again with --authorized-key 'ssh-ed25519 AAAA… oauth-sync@source' (the source's ${"/etc/oauth-sync/ssh/id_ed25519.pub"}).`);
  }
  await sshdAdvice(account, deps.run);
  const probe = await probeAs(binary, configPath, account, deps.run);
  if (!probe.ok) return probe;
  print(probe.detail);
  return { ok: true, forcedCommand, configPath, probe: probe.detail };
}

/**
 * `install --receiver` again (an upgrade, a key rotation): the receiver's config as the operator wrote it, with what
 * detection adds (as `install` does on a source host; nothing of theirs is dropped or changed).
 */
export function mergedOver(current: string, proposed: string, configPath: string): { ok: true; text: string } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(current);
  } catch (error) {
    return { ok: false, error: `${configPath} is not valid JSON (${(error as Error).message}): fix it, or pass --config FILE (the file there is kept beside it)` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, error: `${configPath} does not hold a JSON object: fix it, or pass --config FILE` };
  const migrated = migrateConfig(raw as Json, { hasDefault: (where) => mayBeLeftOut(configSchema, raw, where) });
  for (const note of migrated.notes) logger.warn(`${configPath}: ${note}`);
  const proposal = JSON.parse(proposed) as Json;
  const plan = planUpgrade(migrated.raw, proposal);
  for (const line of formatPlan(plan, configPath)) print(line);
  return { ok: true, text: `${JSON.stringify(applyUpgrade(migrated.raw, proposal, plan, { take: new Set(), drop: new Set() }), null, 2)}\n` };
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

/**
 * sshd must let the login in with a key (root: PermitRootLogin prohibit-password or forced-commands-only), and should
 * not take variables from the client: `env -i` keeps them from `receive`, but the login's shell that starts it
 * still sees them (LD_PRELOAD is loaded into it). The settings are those sshd applies to this login (`-C`).
 */
async function sshdAdvice(account: PasswdEntry, run: ProcessRunner) {
  const t = await run(["sshd", "-T", "-C", `user=${account.name},host=localhost,addr=127.0.0.1`], { env: minimalEnv({ PATH: `/usr/sbin:/sbin:${process.env.PATH ?? "/usr/bin:/bin"}` }), timeoutMs: 10_000 });
  if (t.spawnError || t.code !== 0) return logger.warn("could not read sshd's settings (`sshd -T`): is openssh-server installed here?");
  const setting = (name: string) => new RegExp(`^${name} (\\S+)$`, "m").exec(t.stdout)?.[1];
  if (setting("pubkeyauthentication") === "no") logger.warn("sshd has PubkeyAuthentication no: the source's key cannot log in");
  const root = setting("permitrootlogin");
  if (account.uid === 0 && (root === "no" || root === undefined)) logger.warn("sshd has PermitRootLogin no: set `PermitRootLogin forced-commands-only` (the key can then run only its forced command)");
  for (const problem of dangerousSshdEnvironment(t.stdout)) {
    logger.warn(`${problem}: a holder of the source's key could set them for ${account.name}'s shell, which starts receive (receive itself starts from a clean environment). keep AcceptEnv to LANG LC_* (Debian's default) and PermitUserEnvironment no in sshd_config`);
  }
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
