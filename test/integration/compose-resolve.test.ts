/**
 * The compose fallback (compose-interpolate.ts + compose's merge rules) checked against the real `docker compose
 * config` on the same files: OpenClaw's upstream compose files, the `.env` and extra file its setup.sh writes, an
 * override file, COMPOSE_FILE/COMPOSE_PROJECT_NAME/COMPOSE_PROFILES in `.env`, and the specification's forms.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interpolate } from "../../src/detect/compose-interpolate.ts";
import { resolveCompose, type ResolvedCompose } from "../../src/detect/compose-resolve.ts";
import { runProcess } from "../../src/process/run.ts";
import { DOCKER_BED_ENV, ensureDockerBed } from "../bed/docker.ts";
import { upstreamProject } from "../support/upstream-compose.ts";

let base: string;
const HOME = "/home/compose-user";

beforeAll(async () => {
  await ensureDockerBed();
  base = await mkdtemp(join(tmpdir(), "oauth-sync-compose-resolve-"));
}, 900_000);
afterAll(() => rm(base, { recursive: true, force: true }), 60_000);

/** What both resolvers must agree on. */
const essence = (r: ResolvedCompose | undefined) => ({
  files: r?.files,
  project: r?.project,
  volumeNames: r?.volumeNames,
  services: Object.fromEntries(
    Object.entries(r?.services ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, s]) => [name, { image: s.image, volumes: [...s.volumes].sort((a, b) => a.target.localeCompare(b.target)) }]),
  ),
  errors: r?.errors,
});

async function both(dir: string) {
  const docker = await resolveCompose("/", dir, { home: HOME, run: runProcess });
  const spec = await resolveCompose("/", dir, { home: HOME });
  expect(docker?.via).toBe("docker compose config");
  expect(spec?.via).toContain("interpolation");
  return { docker, spec };
}

describe("the interpolation fallback agrees with docker compose config", () => {
  test("upstream 021768e7 with the .env setup.sh writes", async () => {
    const dir = join(base, "a");
    await upstreamProject(dir, "021768e7", { configDir: join(base, "a-config"), workspaceDir: join(base, "a-config/workspace") });
    const { docker, spec } = await both(dir);
    expect(essence(spec)).toEqual(essence(docker));
    expect(docker!.services["openclaw-gateway"]!.volumes).toContainEqual({ type: "bind", source: join(base, "a-config"), target: "/home/node/.openclaw" });
  }, 60_000);

  test("upstream 0068b7f2 with setup.sh's home volume and extra mounts: docker-compose.extra.yml is read too", async () => {
    const dir = join(base, "b");
    await upstreamProject(dir, "0068b7f2", { configDir: join(base, "b-config"), workspaceDir: join(base, "b-ws"), homeVolume: "openclaw-home", extraMounts: [`${base}/media:/home/node/media:ro`] });
    const { docker, spec } = await both(dir);
    expect(docker!.files).toEqual([join(dir, "docker-compose.yml"), join(dir, "docker-compose.extra.yml")]);
    expect(essence(spec)).toEqual(essence(docker));
    expect(docker!.volumeNames["openclaw-home"]).toBe("b_openclaw-home");
    expect(docker!.notes.join()).toContain("setup.sh");
  }, 60_000);

  test("the current upstream form with nested defaults and no .env: HOME of the user who runs compose", async () => {
    const dir = join(base, "c");
    await upstreamProject(dir, "nested", undefined);
    const { docker, spec } = await both(dir);
    expect(essence(spec)).toEqual(essence(docker));
    expect(docker!.services["openclaw-gateway"]!.volumes).toContainEqual({ type: "bind", source: `${HOME}/.openclaw`, target: "/home/node/.openclaw" });
  }, 60_000);

  test("an override file, COMPOSE_FILE, COMPOSE_PROJECT_NAME and COMPOSE_PROFILES in .env", async () => {
    const dir = join(base, "d");
    await upstreamProject(dir, "nested", { configDir: "./state", workspaceDir: "./ws" });
    await writeFile(join(dir, "docker-compose.override.yml"), "services:\n  openclaw-gateway:\n    volumes:\n      - ./override-state:/home/node/.openclaw\n");
    const plain = await both(dir);
    expect(plain.docker!.files).toEqual([join(dir, "docker-compose.yml"), join(dir, "docker-compose.override.yml")]);
    expect(essence(plain.spec)).toEqual(essence(plain.docker));
    expect(plain.docker!.services["openclaw-gateway"]!.volumes).toContainEqual({ type: "bind", source: join(dir, "override-state"), target: "/home/node/.openclaw" });

    await writeFile(join(dir, "ops.yml"), "services:\n  tools:\n    image: busybox\n    profiles: [ops]\n    volumes:\n      - ${OPENCLAW_CONFIG_DIR}:/data\n  debug:\n    image: busybox\n    profiles: [debug]\n");
    await writeFile(join(dir, ".env"), `${await Bun.file(join(dir, ".env")).text()}COMPOSE_FILE=docker-compose.yml:ops.yml\nCOMPOSE_PROJECT_NAME=claw_prod\nCOMPOSE_PROFILES=ops\n`);
    const listed = await both(dir);
    expect(listed.docker!.files).toEqual([join(dir, "docker-compose.yml"), join(dir, "ops.yml")]);
    expect(listed.docker!.project).toBe("claw_prod");
    expect(Object.keys(listed.docker!.services).sort()).toEqual(["openclaw-cli", "openclaw-gateway", "tools"]);
    expect(essence(listed.spec)).toEqual(essence(listed.docker));
    // A name compose refuses is refused by both.
    await writeFile(join(dir, ".env"), (await Bun.file(join(dir, ".env")).text()).replace("claw_prod", "Claw_Prod"));
    const bad = await both(dir);
    expect(bad.docker!.errors.join()).toContain("invalid project name");
    expect(bad.spec!.errors.join()).toContain("invalid project name");
    await writeFile(join(dir, ".env"), (await Bun.file(join(dir, ".env")).text()).replace("Claw_Prod", "claw_prod"));
    // Compose left to choose its files itself (COMPOSE_FILE in .env) reads the same project as our -f list.
    const own = await runProcess(["docker", "compose", "config", "--format", "json"], { env: { PATH: process.env.PATH!, HOME, ...DOCKER_BED_ENV }, cwd: dir, timeoutMs: 30_000 });
    expect(own.code, own.stderr).toBe(0);
    expect(Object.keys(JSON.parse(own.stdout).services).sort()).toEqual(["openclaw-cli", "openclaw-gateway", "tools"]);
  }, 60_000);

  test("every form of the specification, value by value", async () => {
    const dir = join(base, "e");
    await mkdir(dir, { recursive: true });
    const env = "SET=yes\nEMPTY=\nHOME_SUB=${HOME}/sub\n";
    const expressions = [
      "${SET}", "$SET", "${UNSET}", "${UNSET:-d}", "${EMPTY:-d}", "${EMPTY-d}", "${UNSET-d}", "${SET:+alt}", "${EMPTY:+alt}", "${EMPTY+alt}",
      "${UNSET+alt}", "${OPENCLAW_CONFIG_DIR:-${HOME:-/tmp}/.openclaw}", "${A:-${B:-${C:-deep}}}", "${A:-${SET:+x-${SET}}}", "${HOME_SUB}", "${SET?x}", "${SET:?x}",
    ];
    const yaml = `services:\n  s:\n    image: busybox\n    environment:\n${expressions.map((e, i) => `      V${i}: "${e}"\n`).join("")}`;
    await writeFile(join(dir, "compose.yaml"), yaml);
    await writeFile(join(dir, ".env"), env);
    const out = await runProcess(["docker", "compose", "config", "--format", "json"], { env: { PATH: process.env.PATH!, HOME, ...DOCKER_BED_ENV }, cwd: dir, timeoutMs: 30_000 });
    expect(out.code, out.stderr).toBe(0);
    const real = JSON.parse(out.stdout).services.s.environment as Record<string, string | null>;
    const { projectEnv } = await import("../../src/detect/compose-resolve.ts");
    const lookup = await projectEnv("/", dir, HOME);
    expressions.forEach((e, i) => expect({ e, value: interpolate(e, lookup).value }).toEqual({ e, value: real[`V${i}`] ?? "" }));

    await writeFile(join(dir, "compose.yaml"), 'services:\n  s:\n    image: busybox\n    environment:\n      V: "${UNSET:?set UNSET first}"\n');
    const refused = await runProcess(["docker", "compose", "config"], { env: { PATH: process.env.PATH!, HOME, ...DOCKER_BED_ENV }, cwd: dir, timeoutMs: 30_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("set UNSET first");
    expect(interpolate("${UNSET:?set UNSET first}", lookup).errors.join()).toContain("set UNSET first");
  }, 60_000);
});

describe("a project compose itself rejects", () => {
  test("an OpenClaw project with a required variable unset is reported with compose's own words, not dropped", async () => {
    const { composeInstall } = await import("../../src/detect/openclaw.ts");
    const dir = join(base, "f");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "docker-compose.yml"), 'services:\n  openclaw-gateway:\n    image: ghcr.io/openclaw/openclaw:2026.9.6\n    volumes:\n      - "${OPENCLAW_CONFIG_DIR:?set OPENCLAW_CONFIG_DIR}:/home/node/.openclaw"\n');
    for (const run of [runProcess, undefined]) {
      const found = await composeInstall("/", dir, run, HOME);
      expect(found?.value.problems?.join()).toContain("set OPENCLAW_CONFIG_DIR");
    }
  }, 60_000);
});
