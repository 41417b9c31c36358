import { describe, expect, test } from "bun:test";
import { interpolate, parseDotenv } from "../../src/install/compose-interpolate.ts";

const vars = (v: Record<string, string>) => (name: string) => v[name];

describe("compose interpolation (the specification's forms)", () => {
  const env = vars({ SET: "yes", EMPTY: "", HOME: "/home/ana", DOLLARS: "a$$b" });
  const cases: Array<[string, string]> = [
    ["${SET}", "yes"],
    ["$SET/x", "yes/x"],
    ["${UNSET}", ""],
    ["${UNSET:-d}", "d"],
    ["${EMPTY:-d}", "d"],
    ["${EMPTY-d}", ""],
    ["${UNSET-d}", "d"],
    ["${SET:+alt}", "alt"],
    ["${EMPTY:+alt}", ""],
    ["${EMPTY+alt}", "alt"],
    ["${UNSET+alt}", ""],
    ["${OPENCLAW_CONFIG_DIR:-${HOME:-/tmp}/.openclaw}:/home/node/.openclaw", "/home/ana/.openclaw:/home/node/.openclaw"],
    ["${A:-${B:-${C:-deep}}}", "deep"],
    ["${A:-${SET:+x-${SET}}}", "x-yes"],
    ["$$SET", "$SET"],
    ["$${SET}", "${SET}"],
    ["${UNSET:-$$}", "$"],
    ["${DOLLARS}", "a$$b"],
    ["a $ b", "a $ b"],
  ];
  for (const [text, expected] of cases) test(`${text} → ${expected}`, () => expect(interpolate(text, env)).toEqual({ value: expected, errors: [] }));

  test("`?` and `:?` report compose's error", () => {
    expect(interpolate("${UNSET:?set it}", env).errors).toEqual(["required variable UNSET is missing a value: set it"]);
    expect(interpolate("${EMPTY:?x}", env).errors).toHaveLength(1);
    expect(interpolate("${EMPTY?x}", env).errors).toEqual([]);
    expect(interpolate("${UNSET?}", env).errors).toEqual(["required variable UNSET is missing a value"]);
  });

  test("malformed input is an error, not a guess", () => {
    expect(interpolate("${UNSET:-x", env).errors[0]).toContain("unclosed");
    expect(interpolate("${1BAD}", env).errors[0]).toContain("invalid interpolation");
  });
});

describe(".env as compose reads it", () => {
  test("export, comments, quotes, interpolation against earlier lines and the shell", () => {
    const text = [
      "# a comment",
      "export A=1",
      "B='lit $A'",
      'C="dq $A\\n"',
      "D=${A}-${HOME} # trailing comment",
      "E=${MISSING:-${A}x}",
      "A=2",
      "",
    ].join("\n");
    const env = parseDotenv(text, vars({ HOME: "/home/ana" }));
    expect(Object.fromEntries(env)).toEqual({ A: "2", B: "lit $A", C: "dq 1\n", D: "1-/home/ana", E: "1x" });
  });
});

describe("a compose file read without docker", () => {
  test("aliases that expand into a million values are refused with the file named", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { resolveCompose } = await import("../../src/install/compose-resolve.ts");
    const dir = await mkdtemp(join(tmpdir(), "oauth-sync-alias-"));
    try {
      // Below Bun's own "Excessive aliasing" limit (it refuses 10^7), still far more than any compose file holds.
      let yaml = 'l0: &l0 ["x","x","x","x","x","x","x","x","x","x"]\n';
      for (let i = 1; i < 6; i++) yaml += `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(",")}]\n`;
      yaml += "services:\n  gw:\n    image: ghcr.io/openclaw/openclaw\n    environment: *l5\n";
      await writeFile(join(dir, "compose.yml"), yaml);
      const resolved = await resolveCompose("/", dir, { home: "/root" });
      expect(resolved?.errors.join("\n")).toContain("compose.yml: more than 200000 values once its aliases are expanded");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
