import { homedir } from "node:os";
import { join } from "node:path";
import { logger, print } from "../log/logger.ts";
import { runProcess } from "../process/run.ts";
import type { InstallOutcome } from "./flow.ts";
import { systemctlEnv } from "./install.ts";
import { installLayout } from "./plan.ts";
import { DEFAULT_KEY, defaultRemoteCommand, setupPush } from "./push-setup.ts";
import { setupReceiver } from "./receiver.ts";
import { readPrepared } from "./wizard.ts";

/** `install --push USER@HOST` and `install --receiver`: the edge where flags and the terminal meet the setup steps. */
export async function installRemote(args: Record<string, unknown>): Promise<InstallOutcome> {
  const str = (name: string) => (typeof args[name] === "string" && args[name] !== "" ? (args[name] as string) : undefined);
  const terminal = process.stdin.isTTY && !args.yes;
  const ask = async (question: string) => (await logger.prompt(question, { type: "confirm", initial: true, cancel: "null" })) === true;
  const refused = (message: string): InstallOutcome => {
    logger.error(message);
    return "refused";
  };
  if (args["dry-run"]) return refused("--dry-run is not supported with --push or --receiver");
  if (args.push && args.receiver) return refused("--push and --receiver: one host is either the source or a receiver");
  if (args.push) {
    const port = Number(str("port") ?? 22);
    const destination = str("push") ?? "";
    const result = await setupPush(
      {
        destination,
        port,
        key: str("key") ?? (args.user ? join(homedir(), ".config/oauth-sync/ssh/id_ed25519") : DEFAULT_KEY),
        configPath: str("config-path") ?? installLayout({ user: Boolean(args.user) }).configPath,
        remoteCommand: str("remote-command") ?? defaultRemoteCommand(destination),
        knownHostsFrom: str("known-hosts"),
        hostFingerprint: str("host-fingerprint"),
        name: str("name"),
        yes: Boolean(args.yes),
        test: args.test !== false,
      },
      { run: runProcess, ...(terminal ? { confirm: ask } : {}) },
    );
    if (!result.ok) {
      logger.error(`install --push: ${result.error}`);
      return "failed";
    }
    // A running service picks up the new host at once (ExecReload: SIGHUP) and pushes to it.
    // The service this install runs under: the system's, or the user's own manager with --user.
    const { systemctl } = installLayout({ user: Boolean(args.user) });
    const active = await runProcess([...systemctl, "is-active", "oauth-sync.service"], { env: systemctlEnv(), timeoutMs: 10_000 });
    if (active.stdout.trim() === "active") {
      await runProcess([...systemctl, "reload", "oauth-sync.service"], { env: systemctlEnv(), timeoutMs: 30_000 });
      print("oauth-sync.service reloaded: it pushes to the new host now");
    }
    return "ok";
  }
  let prepared: string | undefined;
  if (str("config")) {
    const read = await readPrepared(str("config")!);
    if (!read.ok) return refused(read.message);
    prepared = read.text;
  }
  const result = await setupReceiver(
    {
      prepared,
      overrides: { openclawDir: str("openclaw-dir"), projectDir: str("project-dir"), release: str("release") },
      configPath: str("config-path"),
      binDir: str("bin-dir") ?? "/usr/local/bin",
      login: str("login") ?? "root",
      authorizedKey: str("authorized-key"),
      authorizedKeysFile: str("authorized-keys-file"),
      execPath: process.execPath,
    },
    {
      run: runProcess,
      confirm: async (text) => {
        print(`receiver config:\n${text}`);
        if (args.yes) return true;
        if (!process.stdin.isTTY) {
          logger.error("no terminal to ask on: re-run with --yes to accept, or --config FILE");
          return false;
        }
        return ask("Install with this config?");
      },
    },
  );
  if (!result.ok) {
    logger.error(`install --receiver: ${result.error}`);
    return "failed";
  }
  return "ok";
}
