import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { protectHome, writablePaths } from "../../src/systemd/paths.ts";
import { renderUnits } from "../../src/systemd/units.ts";

function config(raw: Record<string, unknown>): Config {
  const parsed = parseConfig(JSON.stringify({ stateDir: "/var/lib/oauth-sync", ...raw }), "/etc/oauth-sync/config.json");
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  return parsed.config;
}

const composeSetup = config({
  credentials: "/root/.claude/.credentials.json",
  targets: [
    { kind: "openclaw-auth-profiles", path: "/srv/openclaw/config/agents/main/agent/auth-profiles.json" },
    { kind: "openclaw-auth-profiles", path: "/srv/openclaw/config/agents/work/agent/auth-profiles.json" },
    { kind: "env-file", path: "/srv/openclaw/.env" },
  ],
  gateway: { kind: "compose", projectDir: "/srv/openclaw" },
  trigger: { mode: "none" },
});

describe("unit files", () => {
  test("write access exactly for the targets' directories, the state dir and the credentials dir", () => {
    expect(writablePaths(composeSetup)).toEqual(["/root/.claude", "/srv/openclaw", "/var/lib/oauth-sync"]);
  });

  test("ProtectHome is yes unless a path lives in a home", () => {
    expect(protectHome(["/srv/x", "/var/lib/oauth-sync"])).toBe("yes");
    expect(protectHome(["/root/.claude"])).toBe("read-only");
    expect(protectHome(["/home/ana/.claude"])).toBe("read-only");
    // Writing root's whole HOME (the CLI's ~/.claude.json): a read-only /root would win over ReadWritePaths=/root.
    expect(protectHome(["/root", "/srv/x"])).toBe("no");
  });

  test("the watch service is hardened, restarts on failure, and never denies W^X memory (Bun's JIT)", () => {
    const [watch, check, timer] = renderUnits(composeSetup, { binary: "/usr/local/bin/oauth-sync", configPath: "/etc/oauth-sync/config.json" });
    expect(watch!.content).toContain("ExecStart=/usr/local/bin/oauth-sync watch --config /etc/oauth-sync/config.json");
    for (const line of ["Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "UMask=0077", "ProtectHome=read-only", "StartLimitBurst=5"]) {
      expect(watch!.content).toContain(line);
    }
    expect(watch!.content).toContain("ReadWritePaths=-/root/.claude -/srv/openclaw -/var/lib/oauth-sync");
    expect(watch!.content).not.toMatch(/^MemoryDenyWriteExecute/m);
    expect(watch!.content).toContain("After=network-online.target docker.service");
    expect(check!.content).toContain("SuccessExitStatus=5 6");
    expect(check!.content).toContain("\nLogLevelMax=notice\n");
    // The backstop's ticks are never further apart than the refresh window (refresh.windowSeconds, 240 s by default),
    // so one always lands in it (docs/HOW-TOKEN-REFRESH-WORKS.md).
    const every = Number(/^OnCalendar=\*:0\/(\d+)$/m.exec(timer!.content)?.[1]) * 60;
    const delay = Number(/^RandomizedDelaySec=(\d+)$/m.exec(timer!.content)?.[1]);
    expect(every + delay).toBeLessThan(240);
    expect(timer!.content).toContain("\nPersistent=true\n");
    for (const unit of [watch, check, timer]) expect(unit!.content).toStartWith("# Installed by oauth-sync");
  });

  test("where the docker CLI runs, root's HOME stays readable (its plugins, e.g. compose, may live in ~/.docker)", () => {
    const outsideHomes = { credentials: "/srv/claude/.credentials.json", stateDir: "/var/lib/oauth-sync", trigger: { mode: "none" } };
    const plain = config({ ...outsideHomes, targets: [{ kind: "env-file", path: "/srv/openclaw/.env" }] });
    expect(renderUnits(plain, { binary: "/usr/local/bin/oauth-sync", configPath: "/etc/oauth-sync/config.json" })[0]!.content).toContain("ProtectHome=yes\n");
    const viaDocker = config({ ...outsideHomes, targets: [{ kind: "openclaw-cli", command: ["docker", "compose", "exec", "-T", "openclaw-gateway", "openclaw"] }] });
    const [watch] = renderUnits(viaDocker, { binary: "/usr/local/bin/oauth-sync", configPath: "/etc/oauth-sync/config.json" });
    expect(watch!.content).toContain("ProtectHome=read-only\n");
    expect(watch!.content).toContain("After=network-online.target docker.service");
  });

  test("the capability bounding set holds what the service uses: +CAP_SYS_ADMIN for the systemd gateway, none for a command", () => {
    const units = { binary: "/usr/local/bin/oauth-sync", configPath: "/etc/oauth-sync/config.json" };
    const line = (c: Config) => renderUnits(c, units).map((u) => /^CapabilityBoundingSet=(.*)$/m.exec(u.content)?.[1]);
    const base = "CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_KILL CAP_SETUID CAP_SETGID";
    expect(line(composeSetup)).toEqual([base, base, undefined]);
    expect(line(config({ ...composeSetup, gateway: { kind: "systemd" } }))[0]).toBe(`${base} CAP_SYS_ADMIN`);
    const command = renderUnits(config({ ...composeSetup, gateway: { kind: "command", command: ["/usr/local/bin/reload-gw"] } }), units)[0]!.content;
    expect(command).not.toContain("CapabilityBoundingSet");
    expect(command).not.toContain("# Root, but only");
    expect(command).toContain("SystemCallFilter=@system-service");
    expect(renderUnits(composeSetup, { ...units, user: true })[0]!.content).not.toMatch(/CapabilityBoundingSet|ProtectProc/);
  });

  test("paths with spaces are quoted and % escaped", () => {
    const [watch] = renderUnits(composeSetup, { binary: "/opt/my tools/oauth-sync", configPath: "/etc/oauth-sync/100%.json" });
    expect(watch!.content).toContain('ExecStart="/opt/my tools/oauth-sync" watch --config /etc/oauth-sync/100%%.json');
  });

  test("user units drop the sandboxing a user manager cannot apply", () => {
    const [watch] = renderUnits(composeSetup, { binary: "/home/ana/.local/bin/oauth-sync", configPath: "/home/ana/.config/oauth-sync/config.json", user: true });
    expect(watch!.content).not.toContain("ProtectSystem");
    expect(watch!.content).not.toContain("ReadWritePaths");
    expect(watch!.content).toContain("NoNewPrivileges=yes");
    expect(watch!.content).toContain("WantedBy=default.target");
  });
});
