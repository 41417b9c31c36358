import type { ArgsDef } from "citty";
import { checked, port } from "../argv/checks.ts";

/** The flags of `install --push` and `install --receiver` (docs/MULTI-HOST.md): every answer, for automation. */
export const remoteInstallArgs = {
  push: { type: "string", valueHint: "USER@HOST", description: "Set up pushing the token to USER@HOST over ssh (this host holds the Claude login)" },
  receiver: { type: "boolean", description: "Set up this host to receive the token by push (`oauth-sync receive`)" },
  port: checked({ type: "string", valueHint: "PORT", description: "--push: the receiver's ssh port (default 22)" }, port),
  key: { type: "string", valueHint: "FILE", description: "--push: oauth-sync's own ssh key, made if missing (default /etc/oauth-sync/ssh/id_ed25519; with --user ~/.config/oauth-sync/ssh/id_ed25519)" },
  "known-hosts": { type: "string", valueHint: "FILE", description: "--push: take the receiver's host key from this known_hosts file instead of scanning it" },
  "host-fingerprint": { type: "string", valueHint: "SHA256:…", description: "--push: the receiver's host key fingerprint (SHA256:…) that confirms the scanned key" },
  "remote-command": { type: "string", valueHint: "COMMAND", description: '--push: the forced command in the authorized_keys line (default "/usr/local/bin/oauth-sync receive")' },
  name: { type: "string", valueHint: "NAME", description: "--push: label of the ssh target" },
  login: { type: "string", valueHint: "USER", description: "--receiver: the login the source's key logs in as (default root)" },
  "authorized-key": { type: "string", valueHint: "KEY", description: "--receiver: the source's public key, put into the login's authorized_keys with its forced command" },
  "authorized-keys-file": { type: "string", valueHint: "FILE", description: "--receiver: where that line goes (default ~LOGIN/.ssh/authorized_keys)" },
} as const satisfies ArgsDef;
