/**
 * NanoClaw detection and its proposal on machine trees laid out as its setup leaves them (test/support/nanoclaw.ts),
 * the checkouts owned by their user as `git clone` leaves them: the chown needs root. The rest is in
 * test/unit/nanoclaw.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { nanoclawInstalls } from "../../src/detect/nanoclaw.ts";
import { proposeNanoClaw, proposeNanoClawConfig } from "../../src/install/propose.ts";
import { nanoclawUnit, unitPath, writeCheckout, type Era } from "../support/nanoclaw.ts";

const NANO = { uid: 4242, gid: 4242 };
const LOGIN = { path: "/home/nano/.claude/.credentials.json", uid: NANO.uid, home: "/home/nano" };
let root = "";

function layout(name: string, options: { era: Era; asRoot?: boolean; env?: string; refresher?: boolean; version?: string }) {
  const machine = join(root, name);
  mkdirSync(join(machine, "etc"), { recursive: true });
  writeFileSync(join(machine, "etc/passwd"), `root:x:0:0:root:/root:/bin/bash\nnano:x:${NANO.uid}:${NANO.gid}::/home/nano:/bin/bash\n`);
  const home = options.asRoot ? "/root" : "/home/nano";
  const projectDir = join(home, "nanoclaw");
  writeCheckout(machine, projectDir, { era: options.era, version: options.version ?? "1.2.11", env: options.env ?? "ASSISTANT_NAME=Andy\nCLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-old\n", owner: options.asRoot ? undefined : NANO, refresher: options.refresher });
  const unit = join(machine, unitPath(home, options.asRoot === true));
  mkdirSync(join(unit, ".."), { recursive: true });
  writeFileSync(unit, nanoclawUnit(projectDir, home, options.asRoot === true));
  return { machine, projectDir, homes: ["/root", "/home/nano"] };
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("these layouts are owned by their user (chown): run them as root");
  root = join(tmpdir(), `oauth-sync-nanoclaw-${process.pid}`);
  mkdirSync(root, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("detection and proposal on a machine tree", () => {
  test("1.x as a user (its own unit): its .env, owner nano, read per container: env-file, no reload", async () => {
    const { machine, homes } = layout("user-1x", { era: "per-container" });
    const { found, skipped } = await nanoclawInstalls(machine, homes);
    expect(skipped).toEqual([]);
    expect(found).toHaveLength(1);
    const n = found[0]!.value;
    expect(found[0]!.source).toBe("nano's user unit /home/nano/.config/systemd/user/nanoclaw.service");
    expect(n).toMatchObject({ projectDir: "/home/nano/nanoclaw", envFile: "/home/nano/nanoclaw/.env", owner: { user: "nano", uid: NANO.uid }, version: "1.2.11", reads: "per-container", envToken: true, refreshers: [] });
    expect(n.unit).toEqual({ name: "nanoclaw.service", path: "/home/nano/.config/systemd/user/nanoclaw.service", user: "nano" });
    const proposal = proposeNanoClaw(n);
    expect(proposal.targets).toEqual([{ kind: "env-file", path: "/home/nano/nanoclaw/.env", variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: false }]);
    expect(proposal.gateway).toBeUndefined();
    const config = proposeNanoClawConfig([n], LOGIN, { claudeOnHost: true }).config;
    expect(config).toEqual({ credentials: LOGIN.path, targets: proposal.targets, gateway: { kind: "none" }, trigger: { mode: "host" } });
    expect(parseConfig(JSON.stringify(config), "/etc/oauth-sync/config.json").ok).toBe(true);
  });

  test("the credential-proxy releases as root (system unit): reads at start, so the unit is restarted", async () => {
    const { machine, homes } = layout("root-proxy", { era: "credential-proxy", asRoot: true, version: "1.2.20" });
    const [found] = (await nanoclawInstalls(machine, homes)).found;
    expect(found!.value).toMatchObject({ projectDir: "/root/nanoclaw", reads: "at-start", unit: { name: "nanoclaw.service", path: "/etc/systemd/system/nanoclaw.service" } });
    const proposal = proposeNanoClaw(found!.value);
    expect(proposal.targets).toEqual([{ kind: "env-file", path: "/root/nanoclaw/.env", variable: "CLAUDE_CODE_OAUTH_TOKEN", reload: true }]);
    expect(proposal.gateway).toEqual({ kind: "systemd", unit: "nanoclaw.service" });
    expect(proposal.notes.join("\n")).toContain("reads .env once, when it starts");
  });

  test("OneCLI: nothing to write, said why", async () => {
    const { machine, homes } = layout("onecli", { era: "onecli", version: "2.0.64", env: "ONECLI_URL=http://127.0.0.1:10254\n" });
    const [found] = (await nanoclawInstalls(machine, homes)).found;
    const proposal = proposeNanoClaw(found!.value);
    expect(proposal.targets).toEqual([]);
    expect(proposal.notes.join("\n")).toContain("OneCLI vault");
  });

  test("a fork that refreshes the login itself is named as a second refresher", async () => {
    const { machine, homes } = layout("fork", { era: "per-container", refresher: true });
    const [found] = (await nanoclawInstalls(machine, homes)).found;
    expect(found!.value.refreshers).toEqual(["/home/nano/nanoclaw/src/oauth-token.ts"]);
    const notes = proposeNanoClaw(found!.value).notes.join("\n");
    expect(notes).toContain("/home/nano/nanoclaw/src/oauth-token.ts refreshes the Claude login itself");
    expect(notes).toContain("two refreshers");
  });

  test("a unit whose directory holds control characters is skipped and said so, never a reason to fail", async () => {
    const { machine, homes } = layout("odd", { era: "per-container" });
    const odd = join(machine, "etc/systemd/system/nanoclaw-odd.service");
    mkdirSync(join(odd, ".."), { recursive: true });
    writeFileSync(odd, nanoclawUnit("/srv/nano\x1b]0;x\x07claw", "/root", true));
    const { found, skipped } = await nanoclawInstalls(machine, homes);
    expect(found.map((f) => f.value.projectDir)).toEqual(["/home/nano/nanoclaw"]);
    expect(skipped).toHaveLength(1);
    // eslint-disable-next-line no-control-regex
    expect(skipped[0]).not.toMatch(/[\x00-\x1f]/);
  });
});
