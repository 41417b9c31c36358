import { afterAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const scratch = mkdtempSync(join(tmpdir(), "oauth-sync-lint-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `npm run lint`'s own command, in a scratch copy of src/ (the checkout is never touched). */
function lint(): { code: number; output: string } {
  const script = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.lint!;
  const args = script.split(" ").slice(1).filter((a) => !["test", "bench", "build.ts"].includes(a));
  const run = Bun.spawnSync([join(root, "node_modules/.bin/oxlint"), ...args], { cwd: scratch, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  return { code: run.exitCode ?? -1, output: `${run.stdout}${run.stderr}` };
}

test("the lint step refuses a promise left floating, and passes the code as it is", () => {
  for (const entry of ["src", "tsconfig.json", ".ci"]) cpSync(join(root, entry), join(scratch, entry), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"));
  writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")), include: ["src"] }));
  const clean = lint();
  expect(clean.code, clean.output).toBe(0);

  // The shape of the bug issue 20 found in watch/daemon.ts: an async stop called and not awaited.
  writeFileSync(
    join(scratch, "src/planted.ts"),
    "export async function stopLater(stop: () => Promise<void>): Promise<void> {\n  stop();\n}\n" +
      "export function onTick(handler: () => void) { return handler; }\nonTick(async () => {});\n",
  );
  const planted = lint();
  expect(planted.code).not.toBe(0);
  expect(planted.output).toContain("no-floating-promises");
  expect(planted.output).toContain("no-misused-promises");
  expect(planted.output).toContain("planted.ts");
}, 60_000);
