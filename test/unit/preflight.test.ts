/** install's pre-flight decisions: each missing piece with its code and fix, a dry run told and not stopped. */
import { describe, expect, test } from "bun:test";
import { dockerNeedOfFlags, dockersOfConfig, dockerState, judge, type MachineFacts } from "../../src/install/preflight.ts";
import type { ProcessRunner } from "../../src/process/run.ts";
import { parseConfig } from "../../src/config/load.ts";
import { EXIT } from "../../src/exit-codes.ts";

const healthy: MachineFacts = { uid: 0, systemdBooted: true, pid1: "systemd", userManager: true, docker: { kind: "ok" } };
const system = { user: false, dryRun: false, systemd: true, docker: "useful" as const };

describe("judge", () => {
  test("a root install on a booted systemd with Docker up: nothing to say", () => {
    expect(judge(healthy, system)).toEqual({ problems: [], remarks: [] });
  });

  test("not root: code 10 and both ways out", () => {
    const { problems } = judge({ ...healthy, uid: 1000 }, system);
    expect(problems.map((p) => p.code)).toEqual([EXIT.needsRoot]);
    expect(problems[0]!.line).toContain("sudo oauth-sync install");
    expect(problems[0]!.line).toContain("--user");
    expect(judge({ ...healthy, uid: 1000 }, { ...system, user: true }).problems).toEqual([]);
  });

  test("no systemd as PID 1: code 11, naming what PID 1 is; a user install also needs the user's manager", () => {
    const { problems } = judge({ ...healthy, systemdBooted: false, pid1: "tini" }, system);
    expect(problems.map((p) => p.code)).toEqual([EXIT.noSystemd]);
    expect(problems[0]!.line).toContain('PID 1 is "tini"');
    const user = judge({ ...healthy, uid: 1000, userManager: false }, { ...system, user: true });
    expect(user.problems.map((p) => p.code)).toEqual([EXIT.noSystemd]);
    expect(user.problems[0]!.line).toContain("loginctl enable-linger");
    expect(judge({ ...healthy, systemdBooted: false }, { ...system, systemd: false }).problems).toEqual([]);
  });

  test("Docker: required → code 12 with the fix; only useful → a remark and the install goes on", () => {
    const down = { ...healthy, docker: { kind: "down" as const, detail: "Cannot connect to the Docker daemon" } };
    expect(judge(down, { ...system, docker: "required" }).problems.map((p) => [p.code, p.line])).toEqual([
      [EXIT.dockerUnreachable, "Docker is needed here: the Docker engine does not answer (Cannot connect to the Docker daemon): start it (sudo systemctl start docker)"],
    ]);
    const useful = judge(down, system);
    expect(useful.problems).toEqual([]);
    expect(useful.remarks[0]).toStartWith("containers cannot be looked at: the Docker engine does not answer");
    expect(judge({ ...healthy, docker: { kind: "missing" } }, system)).toEqual({ problems: [], remarks: [] });
    expect(judge({ ...healthy, docker: { kind: "denied" } }, { ...system, docker: "required" }).problems[0]!.line).toContain("docker group");
  });

  test("every problem is reported at once, the first one's code ends the install", () => {
    const { problems } = judge({ uid: 1000, systemdBooted: false, pid1: "bash", userManager: false, docker: { kind: "missing" } }, { ...system, docker: "required" });
    expect(problems.map((p) => p.code)).toEqual([EXIT.needsRoot, EXIT.noSystemd, EXIT.dockerUnreachable]);
  });

  test("a dry run says what would stop the real install and carries on", () => {
    const { problems, remarks } = judge({ ...healthy, uid: 1000, systemdBooted: false }, { ...system, dryRun: true });
    expect(problems).toEqual([]);
    expect(remarks).toHaveLength(2);
    for (const remark of remarks) expect(remark).toStartWith("a real install would stop here: ");
  });
});

describe("when Docker is needed", () => {
  test("from the flags given", () => {
    expect(dockerNeedOfFlags({ trigger: "container" })).toBe("required");
    expect(dockerNeedOfFlags({ "project-dir": "/opt/openclaw" })).toBe("required");
    expect(dockerNeedOfFlags({ "openclaw-dir": "/home/a/.openclaw" })).toBe("no");
    expect(dockerNeedOfFlags({})).toBe("useful");
    expect(dockerNeedOfFlags({ config: "/root/prepared.json" })).toBe("no");
  });

  test("from a config: a compose gateway, a container trigger, openclaw run through docker", () => {
    const config = (extra: object) => {
      const result = parseConfig(JSON.stringify({ credentials: "/c", targets: [{ kind: "env-file", path: "/e" }], ...extra }), "/etc/oauth-sync/config.json");
      if (!result.ok) throw new Error(result.errors.join("; "));
      return result.config;
    };
    expect(dockersOfConfig(config({}))).toEqual([]);
    expect(dockersOfConfig(config({ gateway: { kind: "compose", projectDir: "/opt/openclaw", service: "openclaw-gateway" } }))).toEqual(["docker"]);
    expect(dockersOfConfig(config({ gateway: { kind: "compose", projectDir: "/opt/openclaw", docker: "/opt/bin/docker" }, trigger: { mode: "container", container: "claude" } }))).toEqual(["docker", "/opt/bin/docker"]);
    expect(dockersOfConfig(config({ targets: [{ kind: "openclaw-cli", command: ["/usr/bin/docker", "exec", "gw", "openclaw"] }] }))).toEqual(["/usr/bin/docker"]);
    expect(dockersOfConfig(config({ targets: [{ kind: "openclaw-cli", command: ["openclaw"] }] }))).toEqual([]);
  });

  test("the engine's answer: docker version's exit code, its stderr, or no docker at all", async () => {
    const answering = (result: Partial<Awaited<ReturnType<ProcessRunner>>>): ProcessRunner => async () => ({ code: 0, stdout: "", stderr: "", timedOut: false, ...result });
    expect(await dockerState(answering({ stdout: "27.5.1\n" }))).toEqual({ kind: "ok" });
    expect(await dockerState(answering({ spawnError: "docker: command not found", code: null }))).toEqual({ kind: "missing" });
    expect(await dockerState(answering({ code: 1, stderr: "permission denied while trying to connect to the Docker daemon socket" }))).toEqual({ kind: "denied" });
    expect(await dockerState(answering({ code: 1, stderr: "Client: …\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n" }))).toEqual({
      kind: "down",
      detail: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
    });
    expect(await dockerState(answering({ code: null, timedOut: true }))).toEqual({ kind: "down", detail: "no answer in 15 s" });
  });
});
