import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { completionPaths, installCompletion, installedShells, removeCompletion } from "../../src/install/completion.ts";

const dir = mkdtempSync(join(tmpdir(), "oauth-sync-install-completion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("install --completion", () => {
  test("system-wide and --user paths are where each shell looks by itself", () => {
    expect(completionPaths(false, "/root")).toEqual({
      bash: "/usr/share/bash-completion/completions/oauth-sync",
      zsh: "/usr/local/share/zsh/site-functions/_oauth-sync",
      fish: "/usr/share/fish/vendor_completions.d/oauth-sync.fish",
    });
    expect(completionPaths(true, "/home/alice").fish).toBe("/home/alice/.local/share/fish/vendor_completions.d/oauth-sync.fish");
  });

  test("only for the shells that are installed (bash only with bash-completion)", () => {
    expect(installedShells((p) => p === "/usr/bin/zsh")).toEqual(["zsh"]);
    expect(installedShells((p) => p === "/usr/bin/bash")).toEqual([]);
  });

  test("writes each script once (a second run changes nothing; a dry run nothing at all); uninstall removes only its own", async () => {
    const paths = completionPaths(true, dir);
    expect(await installCompletion(paths, true)).toEqual(Object.values(paths));
    expect(Object.values(paths).some((p) => existsSync(p))).toBe(false);
    expect(await installCompletion(paths, false)).toEqual(Object.values(paths));
    expect(readFileSync(paths.bash, "utf8")).toContain("complete -F _oauth_sync oauth-sync");
    expect(readFileSync(paths.zsh, "utf8")).toStartWith("#compdef oauth-sync");
    expect(statSync(paths.fish).mode & 0o777).toBe(0o644);
    const before = statSync(paths.bash).mtimeMs;
    expect(await installCompletion(paths, false)).toEqual([]);
    expect(statSync(paths.bash).mtimeMs).toBe(before);
    writeFileSync(paths.zsh, "# someone else's completion\n");
    expect(await removeCompletion(paths)).toEqual([paths.bash, paths.fish]);
    expect(readFileSync(paths.zsh, "utf8")).toBe("# someone else's completion\n");
  });
});
