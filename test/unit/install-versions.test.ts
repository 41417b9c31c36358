import { describe, expect, test } from "bun:test";
import { compareBuilds, describeBuild } from "../../src/install/versions.ts";

const OLD = { version: "0.1.0", commit: "c36ef8c8ca60aaaa", date: "2026-12-01T20:00:00Z" };
const NEW = { version: "0.1.0", commit: "d00dfeed0000bbbb", date: "2026-12-02T09:00:00Z" };

describe("compareBuilds: which way an install goes", () => {
  test("nothing recorded: a fresh install", () => {
    expect(compareBuilds(undefined, NEW)).toEqual({ kind: "fresh", line: "installing 0.1.0 (d00dfeed0000, 2026-12-02)" });
  });
  test("a higher version is an upgrade, a lower one a downgrade, whatever the dates", () => {
    expect(compareBuilds({ ...NEW, version: "0.0.9" }, OLD).kind).toBe("upgrade");
    const down = compareBuilds({ ...OLD, version: "0.2.0" }, NEW);
    expect(down.kind).toBe("downgrade");
    expect(down.line).toBe("DOWNGRADE 0.2.0 (c36ef8c8ca60, 2026-12-01) → 0.1.0 (d00dfeed0000, 2026-12-02): this build is older than the one installed");
    expect(compareBuilds({ version: "1.0.0-rc.1" }, { version: "1.0.0" }).kind).toBe("upgrade");
    expect(compareBuilds({ version: "1.0.0" }, { version: "1.0.0-rc.1" }).kind).toBe("downgrade");
    // Pre-releases in SemVer's order: numeric identifiers as numbers, below words, a longer list after its prefix.
    expect(compareBuilds({ version: "1.0.0-rc.10" }, { version: "1.0.0-rc.9" }).kind).toBe("downgrade");
    expect(compareBuilds({ version: "1.0.0-rc.9" }, { version: "1.0.0-rc.10" }).kind).toBe("upgrade");
    expect(compareBuilds({ version: "1.0.0-1" }, { version: "1.0.0-alpha" }).kind).toBe("upgrade");
    expect(compareBuilds({ version: "1.0.0-alpha" }, { version: "1.0.0-alpha.1" }).kind).toBe("upgrade");
  });
  test("the same version: the commit's date decides; the same commit is the same build", () => {
    expect(compareBuilds(OLD, NEW)).toMatchObject({ kind: "upgrade", line: "upgrading 0.1.0 (c36ef8c8ca60, 2026-12-01) → 0.1.0 (d00dfeed0000, 2026-12-02)" });
    expect(compareBuilds(NEW, OLD).kind).toBe("downgrade");
    expect(compareBuilds(NEW, { ...NEW }).kind).toBe("same");
  });
  test("a manifest from before builds were recorded is older than a recorded build of the same version", () => {
    expect(compareBuilds({ version: "0.1.0" }, NEW)).toMatchObject({ kind: "upgrade", line: "upgrading 0.1.0 (build not recorded) → 0.1.0 (d00dfeed0000, 2026-12-02)" });
    expect(compareBuilds(NEW, { version: "0.1.0" }).kind).toBe("unknown");
    expect(compareBuilds({ version: "dev" }, NEW).kind).toBe("unknown");
  });
  test("describeBuild", () => {
    expect(describeBuild({ version: "0.1.0" })).toBe("0.1.0 (build not recorded)");
  });
});
