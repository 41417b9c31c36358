/** Where a config's JSON goes wrong, and where each value stands when it does not. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { lineColumn, scanJson } from "../../src/config/json-position.ts";

const problem = (text: string) => {
  const scan = scanJson(text);
  if (scan.ok) throw new Error(`accepted ${JSON.stringify(text)}`);
  return `${scan.problem.line}:${scan.problem.column}: ${scan.problem.message}`;
};

describe("scanJson: the first syntax problem, with line, column and fix", () => {
  test.each([
    ['{"a": 1,}', "1:8: a comma before } (a trailing comma): remove it"],
    ['{"a": [1, 2,]}', "1:12: a comma before ] (a trailing comma): remove it"],
    ['{\n  "a": 1\n  "b": 2\n}', '3:3: a comma is missing before this key'],
    ['{"a": [1 2]}', '1:10: unexpected "2": a comma or ] should be here'],
    ['{\n  // note\n  "a": 1\n}', "2:3: a comment: JSON has none, remove it"],
    ["{'a': 1}", "1:2: a single-quoted key: JSON keys take double quotes"],
    ['{"a": \'x\'}', "1:7: a single-quoted string: JSON strings take double quotes"],
    ["{a: 1}", '1:2: the key a needs double quotes: "a"'],
    ['{"a": yes}', '1:7: "yes" is not a JSON value: a string needs double quotes ("yes")'],
    ['{"a": "x\n"}', '1:7: this string is not closed: a " is missing'],
    ['{"a": "\\q"}', "1:8: an unknown escape \\q: write \\\\ for a backslash"],
    ['{"a": 1', "1:8: the file ends inside the object opened at line 1: a } is missing"],
    ['{"a": [\n', "2:1: the file ends inside the list opened at line 1: a ] is missing"],
    ['{"a" 1}', '1:6: a : is missing after the key "a"'],
    ['{"a": 1} x', '1:10: unexpected "x" after the end of the JSON object'],
    ['{"a": 01}', '1:8: unexpected "1" after 0'],
    ["", "1:1: the file is empty: it should hold a JSON object"],
    ["  \n ", "2:2: the file is empty: it should hold a JSON object"],
  ])("%j", (text, expected) => {
    expect(problem(text)).toBe(expected);
  });

  test("nesting deeper than any config is refused, not a stack overflow", () => {
    expect(problem("[".repeat(100_000))).toStartWith("1:257: nested more than 256 levels deep");
  });

  test("a large file is read in linear time", () => {
    const big = JSON.stringify({ list: Array.from({ length: 200_000 }, (_, i) => i) });
    const started = performance.now();
    expect(scanJson(big).ok).toBe(true);
    // A quadratic reader would take minutes here; this bound only catches that.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe("scanJson: places of values and keys", () => {
  test("paths as error lines write them", () => {
    const text = '{\n  "targets": [\n    { "kind": "env-file" }\n  ],\n  "watch": { "quietMs": 0 }\n}';
    const scan = scanJson(text);
    if (!scan.ok) throw new Error(scan.problem.message);
    const at = (offset: number | undefined) => lineColumn(text, offset!);
    expect(at(scan.places.values.get("targets[0].kind"))).toEqual({ line: 3, column: 15 });
    expect(at(scan.places.keys.get("targets[0].kind"))).toEqual({ line: 3, column: 7 });
    expect(at(scan.places.values.get("watch.quietMs"))).toEqual({ line: 5, column: 25 });
    expect(scan.places.values.get("")).toBe(0);
  });

  test("agrees with JSON.parse on what is valid JSON (generated documents, and their every prefix)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value, null, 1);
        expect(scanJson(text).ok).toBe(true);
        const cut = text.slice(0, Math.floor(text.length / 2));
        let valid = true;
        try {
          JSON.parse(cut);
        } catch {
          valid = false;
        }
        expect(scanJson(cut).ok).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });
});
