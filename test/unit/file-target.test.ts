import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { target as targetSchema, type FileTargetConfig } from "../../src/config/schema.ts";
import type { ClaudeCredentials } from "../../src/credentials/parse.ts";
import { fingerprint } from "../../src/log/redact.ts";
import type { TargetState } from "../../src/targets/types.ts";
import { createTarget } from "../../src/targets/index.ts";
import type { SyncContext } from "../../src/targets/types.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const ID = "anthropic:default";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "oauth-sync-target-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const credentials = (expiresAt = NOW + HOUR): ClaudeCredentials => ({ accessToken: fakeToken(), refreshToken: fakeToken("ort"), expiresAt });
const context = (state?: TargetState): SyncContext => ({
  now: NOW,
  state,
  run: async () => {
    throw new Error("a file target must not run a process");
  },
});
const config = (raw: Record<string, unknown>) => targetSchema.parse(raw) as FileTargetConfig;
const authProfiles = (token: string, expires: number) =>
  JSON.stringify({ version: 1, profiles: { [ID]: { type: "token", provider: "anthropic", token, expires } } }, null, 2) + "\n";

/** Bytes, inode and mtime: enough to tell that nothing wrote the file. */
async function snapshot(path: string) {
  const info = await stat(path, { bigint: true });
  return { text: await readFile(path, "utf8"), ino: info.ino, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs };
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("file target", () => {
  test("a target holding a different token that expires later is refused and not written", async () => {
    const path = join(dir, "auth-profiles.json");
    const newer = fakeToken();
    await writeFile(path, authProfiles(newer, NOW + 5 * HOUR));
    const before = await snapshot(path);
    const c = credentials(NOW + HOUR);
    const outcome = await createTarget(config({ kind: "openclaw-auth-profiles", path })).sync(c, context());
    expect(outcome.status).toBe("refused");
    expect(outcome.message).toContain(path);
    expect(outcome.message).toContain(fingerprint(newer));
    expect(outcome.message).not.toContain(newer);
    expect(outcome.message).not.toContain(c.accessToken);
    expect(await snapshot(path)).toEqual(before);
    expect(await readdir(dir)).toEqual(["auth-profiles.json"]);
  });

  test("an env file whose token the state says expires later is refused and not written", async () => {
    const path = join(dir, ".env");
    const newer = fakeToken();
    await writeFile(path, `ANTHROPIC_OAUTH_TOKEN=${newer}\n`);
    const before = await snapshot(path);
    const outcome = await createTarget(config({ kind: "env-file", path })).sync(
      credentials(NOW + HOUR),
      context({ fingerprint: fingerprint(newer), expiresAt: NOW + 5 * HOUR }),
    );
    expect(outcome.status).toBe("refused");
    expect(await snapshot(path)).toEqual(before);
  });

  test("the same token, in a file formatted differently: unchanged, the file is not rewritten or reformatted", async () => {
    const path = join(dir, "auth-profiles.json");
    const c = credentials();
    const compact = JSON.stringify({ profiles: { [ID]: { token: c.accessToken, expires: c.expiresAt, provider: "anthropic", type: "token" } }, version: 1 });
    await writeFile(path, compact);
    const before = await snapshot(path);
    await sleep(20);
    const outcome = await createTarget(config({ kind: "openclaw-auth-profiles", path })).sync(c, context());
    expect(outcome).toEqual({ id: `openclaw-auth-profiles:${path}`, status: "unchanged" });
    expect(await snapshot(path)).toEqual(before);
  });

  test("the same token in an env file: unchanged, no write", async () => {
    const path = join(dir, ".env");
    const c = credentials();
    await writeFile(path, `export ANTHROPIC_OAUTH_TOKEN=${c.accessToken}   # by hand\r\n`);
    const before = await snapshot(path);
    await sleep(20);
    expect((await createTarget(config({ kind: "env-file", path })).sync(c, context())).status).toBe("unchanged");
    expect(await snapshot(path)).toEqual(before);
  });

  test("an older different token is replaced; the file keeps its mode", async () => {
    const path = join(dir, "auth-profiles.json");
    await writeFile(path, authProfiles(fakeToken(), NOW - HOUR));
    await chmod(path, 0o640);
    const c = credentials();
    const outcome = await createTarget(config({ kind: "openclaw-auth-profiles", path })).sync(c, context());
    expect(outcome.status).toBe("written");
    expect(JSON.parse(await readFile(path, "utf8")).profiles[ID].token).toBe(c.accessToken);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });

  test("a missing file is created 0600 in new 0700 directories", async () => {
    const path = join(dir, "credentials/oauth.json");
    const c = credentials();
    const outcome = await createTarget(config({ kind: "openclaw-oauth-json", path })).sync(c, context());
    expect(outcome.status).toBe("written");
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ anthropic: { access: c.accessToken, refresh: c.refreshToken, expires: c.expiresAt } });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "credentials"))).mode & 0o777).toBe(0o700);
  });

  test('write: "in-place" keeps the inode', async () => {
    const path = join(dir, ".env");
    await writeFile(path, "ANTHROPIC_OAUTH_TOKEN=old\n");
    const ino = (await stat(path)).ino;
    const c = credentials();
    expect((await createTarget(config({ kind: "env-file", path, write: "in-place" })).sync(c, context())).status).toBe("written");
    expect((await stat(path)).ino).toBe(ino);
    expect(await readFile(path, "utf8")).toBe(`ANTHROPIC_OAUTH_TOKEN=${c.accessToken}\n`);
  });

  test("an unparsable target fails and is left as it was", async () => {
    const path = join(dir, "auth-profiles.json");
    await writeFile(path, '{"version":1,"profiles":{');
    const before = await snapshot(path);
    const outcome = await createTarget(config({ kind: "openclaw-auth-profiles", path })).sync(credentials(), context());
    expect(outcome.status).toBe("failed");
    expect(outcome.message).toContain(path);
    expect(await snapshot(path)).toEqual(before);
  });

  test("a target that is not a regular file (a directory) is refused with the path and the reason", async () => {
    const path = join(dir, "auth-profiles.json");
    await mkdir(path);
    const outcome = await createTarget(config({ kind: "openclaw-auth-profiles", path })).sync(credentials(), context());
    expect(outcome.status).toBe("refused");
    expect(outcome.message).toContain(path);
    expect(outcome.message).toContain("a directory, not a regular file");
  });
});
