import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli.ts";
import { commandTree } from "../../src/completion/tree.ts";
import { completionAdvice, completionPaths, installCompletion, installedShells, removeCompletion, userDataHome } from "../../src/install/completion.ts";

const dir = mkdtempSync(join(tmpdir(), "oauth-sync-install-completion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("install --completion", () => {
  test("system-wide and --user paths are where each shell looks by itself", () => {
    expect(completionPaths(false, "/root")).toEqual({
      bash: "/usr/share/bash-completion/completions/oauth-sync",
      zsh: "/usr/local/share/zsh/site-functions/_oauth-sync",
      fish: "/usr/share/fish/vendor_completions.d/oauth-sync.fish",
    });
    expect(completionPaths(true, "/home/alice", userDataHome("/home/alice", {})).fish).toBe("/home/alice/.local/share/fish/vendor_completions.d/oauth-sync.fish");
  });

  test("--user follows an absolute $XDG_DATA_HOME (a relative one is ignored, as the spec says); zsh gets its fpath line", () => {
    expect(userDataHome("/home/alice", { XDG_DATA_HOME: "/data/alice" })).toBe("/data/alice");
    expect(userDataHome("/home/alice", { XDG_DATA_HOME: "data" })).toBe("/home/alice/.local/share");
    const paths = completionPaths(true, "/home/alice", "/data/alice");
    expect(paths.bash).toBe("/data/alice/bash-completion/completions/oauth-sync");
    expect(completionAdvice(true, paths)).toEqual(["zsh: add `fpath=(/data/alice/zsh/site-functions $fpath)` to ~/.zshrc before `compinit` (zsh does not look there by itself)"]);
    expect(completionAdvice(false, completionPaths(false, "/root"))).toEqual([]);
    expect(completionAdvice(true, { bash: paths.bash })).toEqual([]);
  });

  test("only for the shells that are installed (bash only with bash-completion)", () => {
    expect(installedShells((p) => p === "/usr/bin/zsh")).toEqual(["zsh"]);
    expect(installedShells((p) => p === "/usr/bin/bash")).toEqual([]);
  });

  test("writes each script once (a second run changes nothing; a dry run nothing at all); uninstall removes only its own", async () => {
    const paths = completionPaths(true, dir);
    const tree = await commandTree(main);
    expect(await installCompletion(tree, paths, true)).toEqual(Object.values(paths));
    expect(Object.values(paths).some((p) => existsSync(p))).toBe(false);
    expect(await installCompletion(tree, paths, false)).toEqual(Object.values(paths));
    expect(readFileSync(paths.bash, "utf8")).toContain("complete -F _oauth_sync oauth-sync");
    expect(readFileSync(paths.zsh, "utf8")).toStartWith("#compdef oauth-sync");
    expect(statSync(paths.fish).mode & 0o777).toBe(0o644);
    const before = statSync(paths.bash).mtimeMs;
    expect(await installCompletion(tree, paths, false)).toEqual([]);
    expect(statSync(paths.bash).mtimeMs).toBe(before);
    writeFileSync(paths.zsh, "# someone else's completion\n");
    expect(await removeCompletion(paths)).toEqual([paths.bash, paths.fish]);
    expect(readFileSync(paths.zsh, "utf8")).toBe("# someone else's completion\n");
  });
});
