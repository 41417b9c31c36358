import type { SshTargetConfig } from "../config/ssh.ts";

/**
 * Pure: the ssh command line for one push. Nothing secret goes here (the message travels on stdin). No config file
 * of root's or the system's can weaken it (-F none), only this target's key is offered, only its known_hosts file is
 * trusted, and a host key that is missing or differs ends the connection before anything is sent.
 */
export function sshArgv(target: SshTargetConfig, ssh = "ssh"): string[] {
  const options: Record<string, string> = {
    BatchMode: "yes",
    StrictHostKeyChecking: "yes",
    IdentitiesOnly: "yes",
    UserKnownHostsFile: target.knownHostsFile,
    GlobalKnownHostsFile: "/dev/null",
    UpdateHostKeys: "no",
    IdentityAgent: "none",
    PasswordAuthentication: "no",
    KbdInteractiveAuthentication: "no",
    PreferredAuthentications: "publickey",
    ForwardAgent: "no",
    ForwardX11: "no",
    ClearAllForwardings: "yes",
    PermitLocalCommand: "no",
    ControlMaster: "no",
    ControlPath: "none",
    RequestTTY: "no",
    ConnectTimeout: String(target.connectTimeoutSeconds),
    ServerAliveInterval: "5",
    ServerAliveCountMax: "2",
    LogLevel: "ERROR",
    ...target.options,
  };
  return [
    ssh,
    "-F",
    "none",
    ...Object.entries(options).flatMap(([key, value]) => ["-o", `${key}=${value}`]),
    "-i",
    target.identityFile,
    "-p",
    String(target.port),
    "-l",
    target.user,
    "-T",
    "--",
    target.host,
    target.command,
  ];
}
