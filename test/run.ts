/**
 * `npm test`: runs every suite with bun's runner, then prints the closing line CI reads:
 * "N passed, N failed, N skipped".
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const report = join(mkdtempSync(join(tmpdir(), "oauth-sync-test-")), "junit.xml");
const proc = Bun.spawn([process.execPath, "test", "--timeout", "600000", "--reporter=junit", `--reporter-outfile=${report}`, ...process.argv.slice(2)], {
  stdio: ["inherit", "inherit", "inherit"],
});
const code = await proc.exited;

let summary = "";
try {
  const xml = readFileSync(report, "utf8");
  const suite = /<testsuites[^>]*>/.exec(xml)?.[0] ?? "";
  const count = (name: string) => Number(new RegExp(`${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const tests = count("tests");
  const failed = count("failures") + count("errors");
  const skipped = count("skipped");
  summary = `${tests - failed - skipped} passed, ${failed} failed, ${skipped} skipped`;
  if (tests === 0) {
    console.error("no test ran");
    process.exit(1);
  }
} catch (error) {
  console.error(`could not read the test report ${report}: ${error}`);
  process.exit(code || 1);
}
console.log(summary);
process.exit(code);
