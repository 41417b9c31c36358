import { describe, expect, test } from "bun:test";
import { parseComposePs, serviceReadiness } from "../../src/gateway/compose-ps.ts";
import { composeArgv, dockerEnv } from "../../src/gateway/compose.ts";
import { explainDockerFailure } from "../../src/gateway/docker-errors.ts";
import { retryMs as backoffMs } from "../../src/gateway/scheduler.ts";
import { gatewaySchema } from "../../src/config/gateway.ts";
import { reloadSystemd, systemctlArgv } from "../../src/gateway/systemd.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

const row = (over: Record<string, unknown>) => ({ ID: "abc123def4567890", Service: "openclaw-gateway", State: "running", Health: "", ExitCode: 0, ...over });

describe("docker compose ps", () => {
  test("reads one object per line (2.21+) and an array (older) alike", () => {
    const lines = [row({}), row({ ID: "ffff", Service: "other" })].map((r) => JSON.stringify(r)).join("\n");
    const array = JSON.stringify([row({}), row({ ID: "ffff", Service: "other" })]);
    expect(parseComposePs(lines)).toEqual(parseComposePs(array));
    expect(parseComposePs(lines)).toEqual([
      { id: "abc123def4567890", service: "openclaw-gateway", state: "running", health: "", exitCode: 0 },
      { id: "ffff", service: "other", state: "running", health: "", exitCode: 0 },
    ]);
    expect(parseComposePs("\n")).toEqual([]);
  });

  test("readiness: running without healthcheck, healthy, starting, unhealthy, exited, absent", () => {
    const ready = (r: Record<string, unknown>) => serviceReadiness(parseComposePs(JSON.stringify(row(r))), "openclaw-gateway");
    expect(ready({})).toEqual({ ready: true });
    expect(ready({ Health: "healthy" })).toEqual({ ready: true });
    expect(ready({ Health: "starting" })).toMatchObject({ ready: false, failed: false });
    expect(ready({ State: "created" })).toMatchObject({ ready: false, failed: false });
    expect(ready({ Health: "unhealthy" })).toMatchObject({ ready: false, failed: true });
    expect(ready({ State: "exited", ExitCode: 137 })).toMatchObject({ ready: false, failed: true, why: expect.stringContaining("137") });
    expect(serviceReadiness([], "openclaw-gateway")).toMatchObject({ ready: false, failed: false });
  });
});

describe("docker environment and argv", () => {
  test("only PATH, HOME and docker's own variables reach docker compose; never a stale token", () => {
    const env = dockerEnv({ PATH: "/bin", HOME: "/root", DOCKER_HOST: "unix:///x.sock", ANTHROPIC_OAUTH_TOKEN: fakeToken(), OPENCLAW_CONFIG_DIR: "/x" });
    expect(env).toEqual({ PATH: "/bin", HOME: "/root", DOCKER_HOST: "unix:///x.sock" });
  });

  test("compose files become -f flags in order", () => {
    const gateway = gatewaySchema.parse({ kind: "compose", projectDir: "/opt/oc", files: ["a.yml", "b.yml"] });
    if (gateway.kind !== "compose") throw new Error("parsed the wrong kind");
    expect(composeArgv(gateway, "ps")).toEqual(["docker", "compose", "-f", "a.yml", "-f", "b.yml", "ps"]);
    expect(gateway.strategy).toBe("recreate");
    expect(gateway.service).toBe("openclaw-gateway");
  });

  test("a user unit goes through that user's manager", () => {
    const root = { euid: 0, name: "root" };
    expect(systemctlArgv({ user: "claw" }, root, "restart", "openclaw-gateway.service")).toEqual(["systemctl", "--user", "--machine=claw@", "restart", "openclaw-gateway.service"]);
    expect(systemctlArgv({}, root, "restart", "x.service")).toEqual(["systemctl", "restart", "x.service"]);
    // A user's own service reaches its own manager through its own bus: --machine=USER@ is refused to non-root callers.
    const claw = { euid: 1000, name: "claw" };
    expect(systemctlArgv({ user: "claw" }, claw, "restart", "openclaw-gateway.service")).toEqual(["systemctl", "--user", "restart", "openclaw-gateway.service"]);
    expect(systemctlArgv({}, claw, "restart", "x.service")).toEqual(["systemctl", "--user", "restart", "x.service"]);
    expect(systemctlArgv({ user: "ana" }, claw, "restart", "x.service")).toEqual(["systemctl", "--user", "--machine=ana@", "restart", "x.service"]);
  });

  test("a signal gateway needs exactly one of pidFile and unit", () => {
    expect(gatewaySchema.safeParse({ kind: "signal" }).success).toBe(false);
    expect(gatewaySchema.safeParse({ kind: "signal", pidFile: "/run/x.pid", unit: "x" }).success).toBe(false);
    expect(gatewaySchema.parse({ kind: "signal", unit: "openclaw-gateway.service" })).toMatchObject({ signal: "SIGUSR1" });
  });
});

describe("docker failures explained", () => {
  const context = { docker: "docker", projectDir: "/opt/oc", service: "openclaw-gateway" };
  test.each([
    ["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "not running"],
    ["permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock", "docker group"],
    ["no configuration file provided: not found", "no compose file in /opt/oc"],
    ["no such service: openclaw-gateway", 'no service "openclaw-gateway"'],
    ["docker: 'compose' is not a docker command.", "Compose v2"],
  ])("%s", (output, expected) => {
    expect(explainDockerFailure(output, context)).toContain(expected);
  });

  test("unknown failures keep docker's last lines, with tokens redacted", () => {
    const token = fakeToken();
    const message = explainDockerFailure(`line one\nenv ANTHROPIC_OAUTH_TOKEN=${token} rejected`, context);
    expect(message).toContain("rejected");
    expect(message).not.toContain(token);
  });
});

describe("reload backoff", () => {
  test("1 s doubling to 5 min, jittered within ±25 %", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 9, 10, 30].map((n) => backoffMs(n, mid))).toEqual([1000, 2000, 4000, 8000, 256000, 300000, 300000]);
    expect(backoffMs(1, () => 0)).toBe(750);
    expect(backoffMs(1, () => 1)).toBe(1250);
  });
});

describe("systemd gateway", () => {
  /** systemctl as a script: `restart` succeeds, `show` answers the states given ("active/running/0"), one per call. */
  const systemctl = (states: string[]) => {
    const calls: string[][] = [];
    const slept: number[] = [];
    const deps = {
      now: () => 0,
      sleep: async (ms: number) => void slept.push(ms),
      run: async (argv: string[]) => {
        calls.push(argv);
        if (!argv.includes("show")) return { code: 0, stdout: "", stderr: "", timedOut: false };
        const [active, sub, restarts] = (states.shift() ?? "active/running/0").split("/");
        // systemd's own order of the properties, not the order asked in.
        return { code: 0, stdout: `NRestarts=${restarts}\nActiveState=${active}\nSubState=${sub}\n`, stderr: "", timedOut: false };
      },
    };
    return { deps, calls, slept };
  };
  const gateway = { kind: "systemd" as const, unit: "openclaw-gateway.service", timeoutSeconds: 5, settleSeconds: 0 };
  const root = { euid: 0, name: "root" };

  test("a unit that dies right after its restart is a failed reload, not a restarted gateway", async () => {
    const { deps, slept } = systemctl(["active/running/0", "failed/failed/0"]);
    const result = await reloadSystemd(gateway, deps, root);
    expect(result).toEqual({ ok: false, error: "openclaw-gateway.service is failed (failed) after the restart: see journalctl -u openclaw-gateway.service" });
    expect(slept).toEqual([1000]);
  });

  test("Restart=on-failure: between deaths (auto-restart), or restarted by systemd since the first look, is a failed reload", async () => {
    const between = await reloadSystemd(gateway, systemctl(["active/running/4", "activating/auto-restart/5"]).deps, root);
    expect(between).toEqual({ ok: false, error: "openclaw-gateway.service is activating (auto-restart), restarted by systemd 1 time(s) after the restart: see journalctl -u openclaw-gateway.service" });
    const again = await reloadSystemd(gateway, systemctl(["active/running/4", "active/running/6"]).deps, root);
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error).toContain("restarted by systemd 2 time(s)");
  });

  test("a unit still up a second after its restart is restarted (a starting one counts as up)", async () => {
    const { deps, calls } = systemctl(["activating/start/0", "active/running/0"]);
    expect(await reloadSystemd(gateway, deps, root)).toEqual({ ok: true, detail: "restarted openclaw-gateway.service" });
    const show = "show -p ActiveState -p SubState -p NRestarts openclaw-gateway.service";
    expect(calls.map((c) => c.slice(1).join(" "))).toEqual(["restart openclaw-gateway.service", show, show]);
  });
});
