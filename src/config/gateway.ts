import { describe, nonEmpty, z } from "./zod.ts";

const timeoutSeconds = describe(z._default(z.number().check(z.positive()), 180), "Give up on one reload after this long");
const settleSeconds = describe(
  z._default(z.number().check(z.minimum(0)), 2),
  "After a change, wait this long for more before reloading: a burst of rotations gives one reload",
);

export const composeGateway = z.strictObject({
  kind: describe(z.literal("compose"), "Recreate the gateway's container with docker compose, so it reads the new .env"),
  projectDir: describe(nonEmpty(), "Directory of the OpenClaw compose project"),
  files: describe(z._default(z.array(nonEmpty()), []), "Compose files (default: the project's own)"),
  service: describe(z._default(nonEmpty(), "openclaw-gateway"), "The gateway's compose service"),
  strategy: describe(
    z._default(z.enum(["recreate", "down-up"]), "recreate"),
    '"recreate": up -d --force-recreate --no-deps SERVICE (default). "down-up": the whole project down, then up -d',
  ),
  docker: describe(z._default(nonEmpty(), "docker"), "The docker CLI"),
  timeoutSeconds,
  settleSeconds,
});

export const systemdGateway = z.strictObject({
  kind: describe(z.literal("systemd"), "systemctl restart a unit"),
  unit: describe(z._default(nonEmpty(), "openclaw-gateway.service"), "The gateway's systemd unit"),
  user: describe(z.optional(nonEmpty()), "Restart this user's --user unit instead of a system unit"),
  timeoutSeconds,
  settleSeconds,
});

export const signalGateway = z
  .strictObject({
    kind: describe(z.literal("signal"), "Send the gateway process a signal; give exactly one of pidFile or unit"),
    signal: describe(
      z._default(z.string().check(z.regex(/^SIG[A-Z0-9]+$/, "a signal name such as SIGUSR1")), "SIGUSR1"),
      "SIGUSR1 is OpenClaw's in-process restart",
    ),
    pidFile: describe(z.optional(nonEmpty()), "Signal the pid written in this file"),
    unit: describe(z.optional(nonEmpty()), "Signal the main pid of this systemd unit"),
    timeoutSeconds,
    settleSeconds,
  })
  .check(z.refine((g) => Boolean(g.pidFile) !== Boolean(g.unit), "give exactly one of pidFile or unit"));

export const commandGateway = z.strictObject({
  kind: describe(z.literal("command"), "Run a command of your own"),
  command: describe(z.array(nonEmpty()).check(z.minLength(1)), "argv run after a target changed"),
  env: describe(z._default(z.record(z.string(), z.string()), {}), "Extra environment for the command"),
  timeoutSeconds,
  settleSeconds,
});

export const noGateway = z.strictObject({ kind: describe(z._default(z.literal("none"), "none"), "No reload (the default)") });

export const gatewaySchema = z.discriminatedUnion("kind", [composeGateway, systemdGateway, signalGateway, commandGateway, noGateway]);

export type GatewayConfig = z.infer<typeof gatewaySchema>;
export type ComposeGatewayConfig = z.infer<typeof composeGateway>;
