/**
 * install's own file operations (src/install/no-follow.ts, strays.ts) on real directories, as root and as this
 * process: modes set on the descriptor, links never followed, removals only of what is ours.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeSync } from "node:fs";
import { ensureDir, installFile, removeEmptyDirs, removeTree, tightenFile } from "../../src/install/no-follow.ts";
import { removeStray, strayOf } from "../../src/install/strays.ts";
import { dangerousSshdEnvironment, receiverForcedCommand } from "../../src/install/ssh-keys.ts";

let base = "";
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "oauth-sync-install-fs-"));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("ensureDir, installFile, tightenFile", () => {
  test("missing directories are made with the mode asked for, whatever the umask", () => {
    const old = process.umask(0o077);
    try {
      const dir = ensureDir(join(base, "a/b/c"), 0o755);
      closeSync(dir.fd);
      expect(dir.path).toBe(join(base, "a/b/c"));
      for (const p of ["a", "a/b", "a/b/c"]) expect(statSync(join(base, p)).mode & 0o777).toBe(0o755);
    } finally {
      process.umask(old);
    }
  });

  test("a file is copied in with its mode set on the descriptor; an existing one is replaced by rename (new inode)", () => {
    const source = join(base, "source.bin");
    writeFileSync(source, "binary v1");
    const dir = ensureDir(join(base, "bin"), 0o755);
    try {
      installFile(source, dir, "oauth-sync", 0o755);
      const first = statSync(join(base, "bin/oauth-sync"));
      expect([first.mode & 0o777, readFileSync(join(base, "bin/oauth-sync"), "utf8")]).toEqual([0o755, "binary v1"]);
      writeFileSync(source, "binary v2");
      installFile(source, dir, "oauth-sync", 0o755);
      expect(statSync(join(base, "bin/oauth-sync")).ino).not.toBe(first.ino);
      expect(readFileSync(join(base, "bin/oauth-sync"), "utf8")).toBe("binary v2");
    } finally {
      closeSync(dir.fd);
    }
  });

  test("tightenFile narrows a loose file, leaves a tight one, refuses a FIFO, ignores a missing directory", () => {
    const file = join(base, "cfg.json");
    writeFileSync(file, "{}", { mode: 0o644 });
    expect(tightenFile(file, 0o600)).toBe(0o644);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(tightenFile(file, 0o600)).toBeUndefined();
    // A user's link (never followed) and a swap during install: test/integration/attacks.test.ts.
    Bun.spawnSync(["mkfifo", join(base, "fifo.json")]);
    expect(() => tightenFile(join(base, "fifo.json"), 0o600)).toThrow("FIFO");
    expect(tightenFile(join(base, "nowhere/config.json"), 0o600)).toBeUndefined();
  });
});

describe("removeTree and removeEmptyDirs", () => {
  test("a tree is removed; a link inside it is removed as a link, what it points to stays", () => {
    const keep = join(base, "keep");
    mkdirSync(keep);
    writeFileSync(join(keep, "file"), "kept");
    mkdirSync(join(base, "state/sub"), { recursive: true });
    writeFileSync(join(base, "state/sub/state.json"), "{}");
    symlinkSync(keep, join(base, "state/link"));
    expect(removeTree(join(base, "state"))).toEqual({ removed: true, left: [] });
    expect(existsSync(join(base, "state"))).toBe(false);
    expect(readFileSync(join(keep, "file"), "utf8")).toBe("kept");
    expect(removeTree(join(base, "state")).removed).toBe(false); // twice: nothing to do
  });

  test("a path through a link is refused (the walk does not follow a link it did not make)", () => {
    mkdirSync(join(base, "real/data"), { recursive: true });
    writeFileSync(join(base, "real/data/x"), "x");
    symlinkSync(join(base, "real"), join(base, "swapped"));
    if (process.getuid?.() === 0) {
      // root's link in root's directory is followed by design: the user-owned case is in the attack suite.
      expect(removeTree(join(base, "swapped/data")).removed).toBe(true);
    } else {
      expect(() => removeTree(join(base, "swapped/data"))).toThrow();
      expect(existsSync(join(base, "real/data/x"))).toBe(true);
    }
  });

  test("removeEmptyDirs stops at the first directory that is not empty", () => {
    mkdirSync(join(base, "up/a/b"), { recursive: true });
    writeFileSync(join(base, "up/other"), "");
    expect(removeEmptyDirs(join(base, "up/a/b"), join(base, "up"))).toEqual([join(base, "up/a/b"), join(base, "up/a")]);
    expect(existsSync(join(base, "up/other"))).toBe(true);
  });
});

describe("strays: token copies in a tree only oauth-sync wrote", () => {
  test("a tree holding only agents/*/agent/auth-profiles.json is a stray; one with openclaw.json or anything else is not", () => {
    const stray = join(base, "root/.openclaw}");
    mkdirSync(join(stray, "agents/main/agent"), { recursive: true });
    writeFileSync(join(stray, "agents/main/agent/auth-profiles.json"), "{}");
    const target = { kind: "openclaw-auth-profiles", path: join(stray, "agents/main/agent/auth-profiles.json") };
    expect(strayOf(target)).toEqual({ file: target.path, root: stray });
    const real = join(base, "root/.openclaw");
    mkdirSync(join(real, "agents/main/agent"), { recursive: true });
    writeFileSync(join(real, "agents/main/agent/auth-profiles.json"), "{}");
    writeFileSync(join(real, "openclaw.json"), "{}");
    expect(strayOf({ kind: "openclaw-auth-profiles", path: join(real, "agents/main/agent/auth-profiles.json") })).toBeUndefined();
    mkdirSync(join(stray, "workspace"));
    expect(strayOf(target)).toBeUndefined(); // someone put something else there: not ours alone any more
    rmSync(join(stray, "workspace"), { recursive: true });
    expect(strayOf({ kind: "env-file", path: join(base, ".env") })).toBeUndefined();
    expect(removeStray(strayOf(target)!)).toBe(true);
    expect(existsSync(stray)).toBe(false);
    expect(existsSync(join(real, "openclaw.json"))).toBe(true);
  });
});

describe("a receiver's forced command and sshd's environment settings", () => {
  test("env -i, the system PATH, HOME, the config named; paths a forced command cannot carry are refused", () => {
    expect(receiverForcedCommand("/usr/local/bin/oauth-sync", "/etc/oauth-sync/config.json", "/root")).toBe(
      "/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /usr/local/bin/oauth-sync receive --config /etc/oauth-sync/config.json",
    );
    expect(receiverForcedCommand("/opt/my bin/oauth-sync", "/etc/c.json")).toBeUndefined();
    expect(receiverForcedCommand("/usr/local/bin/oauth-sync", '/etc/"c".json')).toBeUndefined();
  });

  test("AcceptEnv beyond the locale and time zone, and PermitUserEnvironment, are named", () => {
    const debian = "permitrootlogin without-password\nacceptenv LANG\nacceptenv LC_*\npermituserenvironment no\n";
    expect(dangerousSshdEnvironment(debian)).toEqual([]);
    expect(dangerousSshdEnvironment(`${debian}acceptenv LD_PRELOAD\nacceptenv *\n`)).toEqual(["sshd accepts the variable(s) LD_PRELOAD, * from clients (AcceptEnv)"]);
    expect(dangerousSshdEnvironment("acceptenv TZ COLORTERM\npermituserenvironment yes\n")).toEqual(["sshd has PermitUserEnvironment yes"]);
  });
});
