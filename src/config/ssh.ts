import { describe, nonEmpty, z } from "./zod.ts";

/** A host name, an IPv4 or a bare IPv6 address: never one that starts with "-" (ssh would read it as an option). */
const HOST = /^(?!-)[A-Za-z0-9._:%-]{1,253}$/;
/** A login name as useradd allows it. */
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const absolute = (what: string) => describe(z.string().check(z.regex(/^\//, "must be an absolute path")), what);

/** ssh options a target may not set itself: they are what makes the push safe. */
export const FIXED_SSH_OPTIONS = [
  "batchmode",
  "stricthostkeychecking",
  "identitiesonly",
  "identityfile",
  "userknownhostsfile",
  "globalknownhostsfile",
  "identityagent",
  "permitlocalcommand",
  "localcommand",
  "forwardagent",
  "requesttty",
  "updatehostkeys",
  "proxycommand",
  "knownhostscommand",
  // where and as whom: the target's own host, port and user say that
  "hostname",
  "hostkeyalias",
  "user",
  "port",
  "remotecommand",
  // nothing else travels: no forwarding, no environment, no shared connection
  "localforward",
  "remoteforward",
  "dynamicforward",
  "sendenv",
  "setenv",
  "controlmaster",
  "controlpath",
];

export const sshTargetSchema = z.strictObject({
  kind: describe(z.literal("ssh"), "Another host that receives the token over ssh (`oauth-sync receive` there): docs/MULTI-HOST.md"),
  name: describe(z.optional(nonEmpty()), "Label for logs and status; defaults to ssh:USER@HOST:PORT"),
  host: describe(z.string().check(z.regex(HOST, "a host name or an IP address")), "The receiving host (runs `oauth-sync receive`)"),
  port: describe(z._default(z.int().check(z.minimum(1), z.maximum(65535)), 22), "Its ssh port"),
  user: describe(z.string().check(z.regex(USER, "a login name")), "The login on the receiving host whose authorized_keys holds oauth-sync's key"),
  identityFile: absolute("oauth-sync's own private key (0600), e.g. /etc/oauth-sync/ssh/id_ed25519"),
  knownHostsFile: absolute("The receiving host's key, e.g. /etc/oauth-sync/ssh/known_hosts: no trust on first use at sync time"),
  command: describe(
    z._default(nonEmpty(), "oauth-sync receive"),
    "Run on the receiver when its key has no forced command (with `restrict,command=…` the forced one runs instead)",
  ),
  connectTimeoutSeconds: describe(z._default(z.int().check(z.minimum(1)), 5), "Give up on reaching the host after this long"),
  timeoutSeconds: describe(z._default(z.number().check(z.positive()), 120), "Give up on one push (including the receiver's gateway reload) after this long"),
  options: describe(
    z._default(
      z.record(
        z.string().check(
          z.regex(/^[A-Za-z]+$/, "an ssh_config keyword"),
          z.refine((key) => !FIXED_SSH_OPTIONS.includes(key.toLowerCase()), "is set by oauth-sync itself"),
        ),
        z.string().check(z.regex(/^[^\s"'\\]+$/, "a value without spaces or quotes")),
      ),
      {},
    ),
    'Extra ssh_config options, e.g. {"ProxyJump":"bastion.example.com"}; those that make the push safe cannot be changed',
  ),
});

export type SshTargetConfig = z.infer<typeof sshTargetSchema>;

export function sshTargetId(target: Pick<SshTargetConfig, "name" | "user" | "host" | "port">): string {
  return target.name ?? `ssh:${target.user}@${target.host}:${target.port}`;
}
