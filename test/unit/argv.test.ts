/** The command-line layer's pure parts: did-you-mean, the strict parse, the help layout. */
import { describe, expect, test } from "bun:test";
import { defineCommand, parseArgs, type ArgsDef } from "citty";
import { checked, releaseVersion, wholeNumber } from "../../src/argv/checks.ts";
import { columns, flagLabel, renderHelp, wrap } from "../../src/argv/help.ts";
import { commandSpec } from "../../src/argv/spec.ts";
import { parseStrict } from "../../src/argv/strict.ts";
import { closest, didYouMean, editDistance } from "../../src/argv/suggest.ts";

describe("closest: did you mean", () => {
  test("edit distance counts a swap of neighbours as one edit", () => {
    expect(editDistance("sycn", "sync")).toBe(1);
    expect(editDistance("confg", "config")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  test("a typo finds its word; something unrelated finds nothing", () => {
    const verbs = ["watch", "sync", "receive", "reload", "check", "refresh", "install", "uninstall", "status", "units", "config"];
    expect(closest("sycn", verbs)).toBe("sync");
    expect(closest("stauts", verbs)).toBe("status");
    expect(closest("instal", verbs)).toBe("install");
    expect(closest("CHECK", verbs)).toBe("check");
    expect(closest("banana", verbs)).toBeUndefined();
    expect(closest("x", verbs)).toBeUndefined();
  });

  test("the one word a prefix starts, never a guess between several", () => {
    expect(closest("dry", ["dry-run", "yes"])).toBe("dry-run");
    expect(closest("re", ["reload", "refresh"])).toBeUndefined();
    expect(closest("ref", ["reload", "refresh"])).toBe("refresh");
  });

  test("didYouMean is a suffix for an error line, or nothing", () => {
    expect(didYouMean("verison", ["version", "help"], (w) => `--${w}`)).toBe(" (did you mean --version?)");
    expect(didYouMean("zzz", ["version"])).toBe("");
  });
});

const args = {
  config: { type: "string", alias: "c", valueHint: "FILE", description: "Config file" },
  verbose: { type: "boolean", alias: "v", description: "Log every step" },
  quiet: { type: "boolean", alias: "q", description: "Log only warnings" },
  reload: { type: "boolean", default: true, description: "Reload the gateway" },
  trigger: { type: "enum", options: ["host", "container", "none"], description: "Refresh trigger" },
  rotations: checked({ type: "string", default: "5", valueHint: "N", description: "How many" }, wholeNumber(1, 100)),
  release: checked({ type: "string", valueHint: "VERSION", description: "Release" }, releaseVersion),
} as const satisfies ArgsDef;
const spec = commandSpec(["sync"], "Copy the token once", args);
const homes = new Map([["dry-run", ["oauth-sync install"]], ["version", ["oauth-sync"]], ["config", ["oauth-sync sync", "oauth-sync status"]]]);

const error = (argv: string[]) => {
  const result = parseStrict(argv, spec, homes);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(argv)}`);
  return result.error;
};
const values = (argv: string[]) => {
  const result = parseStrict(argv, spec, homes);
  if (!result.ok) throw new Error(result.error);
  return result.parsed.values;
};

describe("parseStrict: what a command declares, and nothing else", () => {
  test("every spelling of a value, short groups, --no-, booleans written out", () => {
    expect(values(["--config", "a.json"])).toEqual({ config: "a.json" });
    expect(values(["--config=a.json"])).toEqual({ config: "a.json" });
    expect(values(["-c", "a.json"])).toEqual({ config: "a.json" });
    expect(values(["-ca.json"])).toEqual({ config: "a.json" });
    expect(values(["-vc", "a.json"])).toEqual({ verbose: true, config: "a.json" });
    expect(values(["--no-reload", "--verbose=true"])).toEqual({ reload: false, verbose: true });
    expect(values(["--config=--odd"])).toEqual({ config: "--odd" });
    expect(values([])).toEqual({});
  });

  test("an unknown flag: the close one, or the command that has it", () => {
    expect(error(["--confg", "c.json"])).toBe("oauth-sync sync: unknown flag --confg (did you mean --config?)");
    expect(error(["--dry-run"])).toBe("oauth-sync sync: unknown flag --dry-run (only oauth-sync install has it)");
    expect(error(["--version"])).toBe("oauth-sync sync: unknown flag --version (it goes before any command: oauth-sync --version)");
    expect(error(["--no-relod"])).toBe("oauth-sync sync: unknown flag --no-relod (did you mean --no-reload?)");
    expect(error(["--banana"])).toBe("oauth-sync sync: unknown flag --banana");
    expect(error(["-x"])).toBe("oauth-sync sync: unknown flag -x; the short flags here: -c (--config), -v (--verbose), -q (--quiet)");
    expect(error(["-config", "a"])).toBe('oauth-sync sync: unknown flag "-config" (did you mean --config?)');
  });

  test("a missing value, an empty one, or a value given to a flag that takes none", () => {
    expect(error(["-c"])).toStartWith("oauth-sync sync: -c needs a value: --config FILE");
    expect(error(["--config", "--verbose"])).toStartWith("oauth-sync sync: --config needs a value");
    expect(error(["--config="])).toStartWith("oauth-sync sync: --config needs a value");
    expect(error(["-c", ""])).toStartWith("oauth-sync sync: -c needs a value");
    expect(error(["-c="])).toStartWith("oauth-sync sync: -c needs a value");
    expect(error(["--verbose=yes"])).toBe('oauth-sync sync: --verbose takes no value (got "yes")');
    expect(error(["--no-config"])).toBe("oauth-sync sync: --no-config: --config takes a value and has no --no- form");
  });

  test("a stray argument, a pasted long dash, a flag without dashes", () => {
    expect(error(["c.json"])).toBe('oauth-sync sync: unexpected argument "c.json": sync takes no arguments, only flags');
    expect(error(["—config", "x"])).toBe('oauth-sync sync: unexpected argument "—config" (a long dash: did you mean --config?)');
    expect(error(["verbose"])).toBe('oauth-sync sync: unexpected argument "verbose" (did you mean --verbose?)');
    expect(error(["--", "--config"])).toBe('oauth-sync sync: unexpected argument "--config": sync takes no arguments, only flags');
  });

  test("twice, or contradicting itself", () => {
    expect(error(["-c", "a", "--config", "b"])).toBe('oauth-sync sync: --config given twice ("a" and "b"): give it once');
    expect(error(["--reload", "--no-reload"])).toBe("oauth-sync sync: --reload and --no-reload contradict each other: give one");
    expect(error(["-vq"])).toBe("oauth-sync sync: -v and -q contradict each other: give one");
    expect(values(["-v", "--verbose"])).toEqual({ verbose: true });
  });

  test("a choice outside its options, a value its check refuses", () => {
    expect(error(["--trigger", "hots"])).toBe('oauth-sync sync: --trigger "hots" is not one of host, container, none (did you mean host?)');
    expect(error(["--trigger", "foo"])).toBe('oauth-sync sync: --trigger "foo" is not one of host, container, none');
    expect(error(["--rotations", "abc"])).toBe('oauth-sync sync: --rotations "abc" is not a whole number from 1 to 100');
    expect(error(["--rotations", "0"])).toBe('oauth-sync sync: --rotations "0" is not a whole number from 1 to 100');
    expect(error(["--release", "banana"])).toBe('oauth-sync sync: --release "banana" is not an OpenClaw release: YEAR.MONTH.PATCH, e.g. 2026.9.6');
    expect(values(["--release", "2026.9.6", "--rotations", "7"])).toEqual({ release: "2026.9.6", rotations: "7" });
  });

  test("what the user typed never reaches the terminal raw", () => {
    expect(error(["--\x1b[31mred"])).toBe('oauth-sync sync: unknown flag "--\\u001b[31mred"');
    expect(error(["a\nb"])).toStartWith('oauth-sync sync: unexpected argument "a\\nb"');
  });

  test("the canonical command line means the same to citty as what the user wrote meant here", async () => {
    for (const argv of [["-vc", "a.json"], ["--no-reload", "--trigger=host"], ["-ca b.json", "--rotations", "9"], ["--config", "-"], ["--verbose=false"]]) {
      const result = parseStrict(argv, spec, homes);
      if (!result.ok) throw new Error(result.error);
      const cittyValues = parseArgs(result.parsed.canonical, args) as Record<string, unknown>;
      for (const [name, value] of Object.entries(result.parsed.values)) expect(cittyValues[name], `${argv.join(" ")} → ${name}`).toBe(value);
      expect(cittyValues._).toEqual([]);
    }
  });

  test("a declared positional is taken; a required one that is missing is named", () => {
    const withFile = commandSpec(["x"], "", { file: { type: "positional", description: "the file" } });
    const taken = parseStrict(["a.txt"], withFile);
    expect(taken.ok && taken.parsed.positionals).toEqual(["a.txt"]);
    const missing = parseStrict([], withFile);
    expect(!missing.ok && missing.error).toBe("oauth-sync x: missing FILE");
  });
});

describe("help: plain text in 80 columns", () => {
  test("flags line up whether or not they have a short form; a long description wraps under its column", () => {
    const text = renderHelp({ spec, subcommands: [] });
    const lines = text.split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines[0]).toBe("Usage: oauth-sync sync [options]");
    expect(text).toContain("  -c, --config FILE");
    expect(text).toContain("      --[no-]reload");
    expect(text).toContain("      --trigger host|container|none");
    expect(text).toContain("(default: 5)");
    expect(text).not.toContain("\x1b[");
    const starts = lines.filter((l) => /^ {2}(-\w, |\s{4})--/.test(l)).map((l) => l.indexOf("--"));
    expect(new Set(starts)).toEqual(new Set([6]));
  });

  test("a group's help names the program and the group in its usage line and lists its commands", () => {
    const group = commandSpec(["config"], "Check, explain or show the configuration", {});
    const text = renderHelp({ spec: group, subcommands: [{ name: "check", description: "Validate a config file" }, { name: "show", description: "Print the effective config" }] });
    expect(text.split("\n")[0]).toBe("Usage: oauth-sync config <command>");
    expect(text).toContain("\nCommands:\n  check  Validate a config file\n  show   Print the effective config\n");
    expect(text).toContain("`oauth-sync help config COMMAND`");
  });

  test("wrap and columns never exceed the width, even for a word longer than it", () => {
    expect(wrap("a bb ccc dddd", 6)).toEqual(["a bb", "ccc", "dddd"]);
    expect(wrap("x".repeat(12), 5)).toEqual(["xxxxx", "xxxxx", "xx"]);
    const rows = columns([["-c, --config FILE", "word ".repeat(40)], ["    --a-very-long-flag-name-indeed VALUE", "short"]], 60);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(60);
    expect(rows.at(-2)).toBe("      --a-very-long-flag-name-indeed VALUE");
  });

  test("flag labels", () => {
    const [config, , , reload, trigger] = spec.flags;
    expect(flagLabel(config!)).toBe("-c, --config FILE");
    expect(flagLabel(reload!)).toBe("    --[no-]reload");
    expect(flagLabel(trigger!)).toBe("    --trigger host|container|none");
  });
});

test("defineCommand declarations pass through checked() unchanged", () => {
  const def = { type: "string", description: "x" } as const;
  expect(checked(def, wholeNumber(1, 2))).toBe(def);
  expect(defineCommand({ meta: { name: "t" }, args: { n: checked({ type: "string" }, wholeNumber(1, 2)) } }).args).toEqual({ n: { type: "string" } });
});
