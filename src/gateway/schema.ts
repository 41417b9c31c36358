import { z } from "zod";

const timeoutSeconds = z.number().positive().default(180).describe("Give up on one reload after this long");
const settleSeconds = z
  .number()
  .min(0)
  .default(2)
  .describe("After a change, wait this long for more before reloading: a burst of rotations gives one reload");

export const composeGateway = z.strictObject({
  kind: z.literal("compose"),
  projectDir: z.string().min(1).describe("Directory of the OpenClaw compose project"),
  files: z.array(z.string().min(1)).default([]).describe("Compose files (default: the project's own)"),
  service: z.string().min(1).default("openclaw-gateway"),
  strategy: z
    .enum(["recreate", "down-up"])
    .default("recreate")
    .describe('"recreate": up -d --force-recreate --no-deps SERVICE (default). "down-up": the whole project down, then up -d'),
  docker: z.string().min(1).default("docker").describe("The docker CLI"),
  timeoutSeconds,
  settleSeconds,
});

export const systemdGateway = z.strictObject({
  kind: z.literal("systemd"),
  unit: z.string().min(1).default("openclaw-gateway.service"),
  user: z.string().min(1).optional().describe("Restart this user's --user unit instead of a system unit"),
  timeoutSeconds,
  settleSeconds,
});

export const signalGateway = z
  .strictObject({
    kind: z.literal("signal"),
    signal: z.string().regex(/^SIG[A-Z0-9]+$/, "a signal name such as SIGUSR1").default("SIGUSR1").describe("SIGUSR1 is OpenClaw's in-process restart"),
    pidFile: z.string().min(1).optional(),
    unit: z.string().min(1).optional().describe("Signal the main pid of this systemd unit"),
    timeoutSeconds,
  settleSeconds,
  })
  .refine((g) => Boolean(g.pidFile) !== Boolean(g.unit), "give exactly one of pidFile or unit");

export const commandGateway = z.strictObject({
  kind: z.literal("command"),
  command: z.array(z.string().min(1)).min(1).describe("argv run after a target changed"),
  env: z.record(z.string(), z.string()).default({}),
  timeoutSeconds,
  settleSeconds,
});

export const noGateway = z.strictObject({ kind: z.literal("none") });

export const gatewaySchema = z.discriminatedUnion("kind", [composeGateway, systemdGateway, signalGateway, commandGateway, noGateway]);

export type GatewayConfig = z.infer<typeof gatewaySchema>;
export type ComposeGatewayConfig = z.infer<typeof composeGateway>;
