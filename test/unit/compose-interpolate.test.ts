import { describe, expect, test } from "bun:test";
import { InterpolationBound, interpolate, parseDotenv } from "../../src/detect/compose-interpolate.ts";

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
    const { resolveCompose } = await import("../../src/detect/compose-resolve.ts");
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

describe("bounded: a user's files cannot make root's parser run long or deep", () => {
  const env = vars({ A: "a" });
  const nested = (levels: number) => `${"${X:-".repeat(levels)}end${"}".repeat(levels)}`;

  test("32 levels of nested defaults are read; 33 are refused with the reason", () => {
    expect(interpolate(nested(32), env)).toEqual({ value: "end", errors: [] });
    expect(() => interpolate(nested(33), env)).toThrow(InterpolationBound);
    expect(() => interpolate(nested(33), env)).toThrow("nested deeper than 32 levels");
  });

  test("a 300 KB line of nested defaults (6.7 s and a stack overflow before) is refused at once", () => {
    const bomb = nested(300_000 / 6);
    const started = performance.now();
    expect(() => interpolate(bomb, env)).toThrow(InterpolationBound);
    expect(() => parseDotenv(`OPENCLAW_CONFIG_DIR=${bomb}\n`)).toThrow("nested deeper");
    const ms = performance.now() - started;
    console.log(`300 KB nested-default line refused in ${ms.toFixed(1)} ms`);
  });

  test("a long flat line is read in one pass (its times printed for 100 KB and 1 MB)", () => {
    const line = (n: number) => "${A}${B:-}".repeat(n);
    const time = (text: string) => {
      const started = performance.now();
      interpolate(text, vars({ A: "" }));
      return performance.now() - started;
    };
    time(line(1000)); // warm up
    const small = time(line(100_000 / 10));
    const large = time(line(1_000_000 / 10));
    console.log(`flat line: 100 KB ${small.toFixed(1)} ms, 1 MB ${large.toFixed(1)} ms (printed, not asserted)`);
    expect(interpolate(line(3), env).value).toBe("aaa");
  });

  test("values that double at every line are refused past 64 KiB a value / 16 MiB in all", () => {
    const doubling = ["A=xxxxxxxxxxxxxxxx", ...Array.from({ length: 30 }, (_, i) => `A${i + 1}=\${A${i === 0 ? "" : i}}\${A${i === 0 ? "" : i}}`)].join("\n");
    expect(() => parseDotenv(doubling)).toThrow("longer than 64 KiB");
    const wide = ["A=" + "x".repeat(60_000), ...Array.from({ length: 400 }, (_, i) => `B${i}=\${A}`)].join("\n");
    expect(() => parseDotenv(wide)).toThrow("more than 16 MiB");
  });

  test("a branch not taken is parsed for its end but never evaluated (no error from a `?` there)", () => {
    expect(interpolate("${A:-${UNSET:?never}}", env)).toEqual({ value: "a", errors: [] });
  });
});
