/**
 * Real OpenSSH for the push tests and bench/push.ts: receivers are sshd instances from Debian's openssh-server, each
 * on its own loopback address (127.0.0.2, 127.0.0.3…: only 127.0.0.0/8 is ever contacted) with its own sshd_config,
 * host key, authorized_keys and `oauth-sync receive` config and targets. Needs root (sshd, useradd). `cleanup()` stops
 * the sshd instances and removes the bed, its login and the folders it made.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { createTempUser, type TempUser } from "./users.ts";
import { waitUntil } from "./wait.ts";

export const SSHD = "/usr/sbin/sshd";
/** Root's, 0755, outside /tmp: sshd's StrictModes refuses authorized_keys below a world-writable directory. */
export const BED_PARENT = "/var/lib/oauth-sync-sshbed";

function sh(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...env } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.error}`);
  return result.stdout;
}

/** Debian's OpenSSH, installed when missing (apt serialised with the other test beds' lock). */
export function ensureOpenSsh(): void {
  const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } }).status === 0;
  if (existsSync(SSHD) && have("ssh") && have("ssh-keygen") && have("ssh-keyscan")) return;
  const cache = process.env.OAUTH_SYNC_TESTBED_CACHE || join(process.env.HOME || "/root", ".cache/oauth-sync-testbed");
  mkdirSync(cache, { recursive: true });
  const install = "apt-get install -y -o DPkg::Lock::Timeout=300 --no-install-recommends openssh-server openssh-client";
  sh("sh", ["-c", `flock -w 900 ${cache}/apt.lock sh -c '${install} || (apt-get update && ${install})'`], { DEBIAN_FRONTEND: "noninteractive" });
}

/** The unprivileged login (this process's own), with a usable (not locked: `*`) password field and /bin/sh for the forced command. */
function createReceiverUser(home: string): TempUser {
  const user = createTempUser("oauthsync-rcv", ["--system", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--password", "*"]);
  mkdirSync(home, { mode: 0o700 });
  chownSync(home, user.uid, user.gid);
  chmodSync(home, 0o700);
  return user;
}

async function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, address, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface Receiver {
  name: string;
  address: string;
  port: number;
  login: string;
  /** sshd's own files (root's). */
  dir: string;
  /** What belongs to the login: config, state, OpenClaw files. */
  home: string;
  configPath: string;
  configText: string;
  stateDir: string;
  targets: { authProfiles: string; env: string };
  authorizedKeys: string;
  hostKey: string;
  log: () => string;
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
  /** SIGSTOP/SIGCONT to sshd: a host that accepts the connection and then says nothing (hung, overloaded). */
  freeze(): void;
  thaw(): void;
  hostFingerprint(): string;
  /** A new host key (the machine reinstalled, or someone in the middle). Returns the old key's text to restore. */
  replaceHostKey(): { privateKey: string; publicKey: string };
  restoreHostKey(old: { privateKey: string; publicKey: string }): void;
}

export interface Bed {
  root: string;
  bin: string;
  receivers: Receiver[];
  cleanup(): Promise<void>;
}

export interface BedOptions {
  /** Run each sshd in this process's network namespace (a container's), on the host's files. */
  netnsPid?: number;
  /** Only the first receiver (root's). */
  one?: boolean;
}

/** Two receivers: root's on 127.0.0.2, the unprivileged login's on 127.0.0.3. Their sshd is not started yet. */
export async function createBed(options: BedOptions = {}): Promise<Bed> {
  ensureOpenSsh();
  const madeParent = !existsSync(BED_PARENT);
  mkdirSync(BED_PARENT, { recursive: true, mode: 0o755 });
  chmodSync(BED_PARENT, 0o755);
  const root = mkdtempSync(join(BED_PARENT, "bed-"));
  chmodSync(root, 0o755);
  // sshd's privilege separation directory (Debian's service makes it at boot).
  const madeRunSshd = !existsSync("/run/sshd");
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const receivers: Receiver[] = [];
  let user: TempUser | undefined;
  const cleanup = async () => {
    for (const r of receivers) await r.stop();
    rmSync(root, { recursive: true, force: true });
    user?.remove();
    if (madeParent) rmSync(BED_PARENT, { recursive: true, force: true });
    if (madeRunSshd) rmSync("/run/sshd", { recursive: true, force: true });
  };
  try {
    const bin = join(root, "bin");
    mkdirSync(bin, { mode: 0o755 });
    receivers.push(await makeReceiver(root, "r1", "127.0.0.2", "root", { uid: 0, gid: 0 }, join(root, "r1/home"), options.netnsPid));
    if (!options.one) {
      user = createReceiverUser(join(root, "r2-home"));
      receivers.push(await makeReceiver(root, "r2", "127.0.0.3", user.name, user, join(root, "r2-home"), options.netnsPid));
    }
    return { root, bin, receivers, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function makeReceiver(bedRoot: string, name: string, address: string, login: string, owner: { uid: number; gid: number }, home: string, netnsPid?: number): Promise<Receiver> {
  const dir = join(bedRoot, name);
  mkdirSync(join(dir, "authorized_keys"), { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  mkdirSync(join(home, "openclaw/agents/main/agent"), { recursive: true, mode: 0o700 });
  // A container's network namespace starts empty: any port is free there.
  const port = netnsPid ? 20000 + Math.floor(Math.random() * 20000) : await freePort(address);
  const hostKey = join(dir, "host_ed25519");
  sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}-host`, "-f", hostKey]);
  const authorizedKeys = join(dir, "authorized_keys", login);
  writeFileSync(authorizedKeys, "", { mode: 0o644 });
  const sshdConfig = join(dir, "sshd_config");
  writeFileSync(
    sshdConfig,
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}/%u`,
      "StrictModes yes",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin forced-commands-only",
      "UsePAM no",
      `AllowUsers ${login}`,
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  const targets = { authProfiles: join(home, "openclaw/agents/main/agent/auth-profiles.json"), env: join(home, "openclaw/.env") };
  writeFileSync(targets.authProfiles, `${JSON.stringify({ version: 1, profiles: {} }, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(targets.env, "# OpenClaw compose settings\nANTHROPIC_OAUTH_TOKEN=\n", { mode: 0o600 });
  const stateDir = join(home, "state");
  const configPath = join(home, "config.json");
  const configText = `${JSON.stringify(
    {
      source: "push",
      stateDir,
      targets: [
        { kind: "openclaw-auth-profiles", path: targets.authProfiles },
        { kind: "env-file", path: targets.env },
      ],
    },
    null,
    2,
  )}\n`;
  sh("chown", ["-R", `${owner.uid}:${owner.gid}`, home]);

  let sshd: ChildProcess | undefined;
  let log = "";
  const receiver: Receiver = {
    name,
    address,
    port,
    login,
    dir,
    home,
    configPath,
    configText,
    stateDir,
    targets,
    authorizedKeys,
    hostKey,
    log: () => log,
    running: () => Boolean(sshd && sshd.exitCode === null),
    freeze: () => void sshd?.kill("SIGSTOP"),
    thaw: () => void sshd?.kill("SIGCONT"),
    async start() {
      if (receiver.running()) return;
      const argv = [SSHD, "-D", "-e", "-f", sshdConfig];
      const child = netnsPid ? spawn("nsenter", ["-t", String(netnsPid), "-n", "--", ...argv], { stdio: ["ignore", "pipe", "pipe"] }) : spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
      sshd = child;
      const before = log.length;
      child.stdout!.on("data", (c) => (log += c));
      child.stderr!.on("data", (c) => (log += c));
      const listening = async () => {
        if (netnsPid ? log.slice(before).includes(`Server listening on ${address} port ${port}`) : await accepts(address, port)) return true;
        if (child.exitCode !== null) throw new Error(`sshd ${name} exited ${child.exitCode}:\n${log}`);
        return false;
      };
      await waitUntil(`sshd ${name} to listen on ${address}:${port}`, listening, { timeoutMs: 10_000, intervalMs: 20, detail: () => log });
    },
    async stop() {
      const child = sshd;
      sshd = undefined;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      child.kill("SIGCONT"); // a frozen sshd (freeze()) acts on SIGTERM only once it runs again
      await exited;
    },
    hostFingerprint() {
      return sh("ssh-keygen", ["-lf", `${hostKey}.pub`]).split(/\s+/)[1]!;
    },
    replaceHostKey() {
      const old = { privateKey: readFileSync(hostKey, "utf8"), publicKey: readFileSync(`${hostKey}.pub`, "utf8") };
      rmSync(hostKey);
      rmSync(`${hostKey}.pub`);
      sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}-impostor`, "-f", hostKey]);
      return old;
    },
    restoreHostKey(old) {
      writeFileSync(hostKey, old.privateKey, { mode: 0o600 });
      writeFileSync(`${hostKey}.pub`, old.publicKey, { mode: 0o644 });
    },
  };
  return receiver;
}

export interface WiredSource {
  dir: string;
  credentials: string;
  configPath: string;
  stateDir: string;
}

/**
 * For the benchmark: a source wired to every receiver without going through `install` (that is tested in
 * test/integration/push.test.ts): its own key, the receivers' host keys pinned, the forced-command lines in place,
 * the binary copied where the receivers' logins can run it, the receivers' configs written as theirs.
 */
export function wireSource(bed: Bed, binary: string): WiredSource {
  const binPath = join(bed.bin, "oauth-sync");
  writeFileSync(binPath, readFileSync(binary), { mode: 0o755 });
  chmodSync(binPath, 0o755);
  const dir = join(bed.root, "source");
  mkdirSync(join(dir, "claude"), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, "ssh"), { mode: 0o700 });
  chmodSync(dir, 0o700);
  const key = join(dir, "ssh/id_ed25519");
  sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "oauth-sync@bench", "-f", key]);
  const publicKey = readFileSync(`${key}.pub`, "utf8").trim();
  const knownHosts = join(dir, "ssh/known_hosts");
  writeFileSync(knownHosts, bed.receivers.map((r) => `[${r.address}]:${r.port} ${readFileSync(`${r.hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ")}`).join("\n") + "\n", { mode: 0o600 });
  for (const r of bed.receivers) {
    writeFileSync(r.authorizedKeys, `restrict,command="${binPath} receive --config ${r.configPath}" ${publicKey}\n`, { mode: 0o644 });
    writeFileSync(r.configPath, r.configText, { mode: 0o600 });
    sh("chown", ["--reference", r.home, r.configPath]);
  }
  const config = {
    credentials: join(dir, "claude/.credentials.json"),
    stateDir: join(dir, "state"),
    trigger: { mode: "none" },
    targets: bed.receivers.map((r) => ({ kind: "ssh", host: r.address, port: r.port, user: r.login, identityFile: key, knownHostsFile: knownHosts })),
  };
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  return { dir, credentials: config.credentials, configPath, stateDir: config.stateDir };
}
