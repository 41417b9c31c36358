import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../src/fs/atomic-write.ts";
import { describeFsError } from "../../src/fs/errors.ts";
import { fakeToken } from "../../src/demo/sandbox.ts";

// The cases that need root (another owner, links root owns, mounts, chattr): test/integration/atomic-write-root.test.ts.
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "oauth-sync-atomic-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o7777;
const entries = async (path: string) => (await readdir(path)).sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const content = () => `{"token":"${fakeToken()}"}\n`;

describe("writeFileAtomic", () => {
  test("a new file gets mode 0600 and its missing parents are created 0700", async () => {
    const path = join(dir, "a/b/auth.json");
    const data = content();
    expect(await writeFileAtomic(path, data)).toBe("written");
    expect(await readFile(path, "utf8")).toBe(data);
    expect(await mode(path)).toBe(0o600);
    expect(await mode(join(dir, "a"))).toBe(0o700);
    expect(await mode(join(dir, "a/b"))).toBe(0o700);
    expect(await entries(join(dir, "a/b"))).toEqual(["auth.json"]);
  });

  test("newFileMode applies to a new file only", async () => {
    const path = join(dir, "new.env");
    await writeFileAtomic(path, content(), { newFileMode: 0o640 });
    expect(await mode(path)).toBe(0o640);
  });

  test("identical content: unchanged, same inode and mtime", async () => {
    const path = join(dir, "auth.json");
    const data = content();
    await writeFile(path, data);
    const before = await stat(path, { bigint: true });
    await sleep(20);
    expect(await writeFileAtomic(path, data)).toBe("unchanged");
    const after = await stat(path, { bigint: true });
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    expect(after.ctimeNs).toBe(before.ctimeNs);
  });

  test("atomic mode: a new inode replaces the old one and no temp file is left", async () => {
    const path = join(dir, "auth.json");
    await writeFile(path, content());
    const before = await stat(path);
    const data = content();
    expect(await writeFileAtomic(path, data, { mode: "atomic" })).toBe("written");
    expect((await stat(path)).ino).not.toBe(before.ino);
    expect(await readFile(path, "utf8")).toBe(data);
    expect(await entries(dir)).toEqual(["auth.json"]);
  });

  test("in-place mode: same inode, content replaced, shorter content truncates", async () => {
    const path = join(dir, ".env");
    const long = `ANTHROPIC_OAUTH_TOKEN=${fakeToken()}\n# a long trailing comment that must disappear\n`;
    await writeFile(path, long);
    const before = await stat(path);
    const short = `ANTHROPIC_OAUTH_TOKEN=${fakeToken()}\n`;
    expect(short.length).toBeLessThan(long.length);
    expect(await writeFileAtomic(path, short, { mode: "in-place" })).toBe("written");
    const after = await stat(path);
    expect(after.ino).toBe(before.ino);
    expect(after.size).toBe(Buffer.byteLength(short));
    expect(await readFile(path, "utf8")).toBe(short);
    expect(await entries(dir)).toEqual([".env"]);
  });

  test("in-place mode on a file that does not exist yet creates it 0600", async () => {
    const path = join(dir, "sub/.env");
    const data = content();
    expect(await writeFileAtomic(path, data, { mode: "in-place" })).toBe("written");
    expect(await readFile(path, "utf8")).toBe(data);
    expect(await mode(path)).toBe(0o600);
  });
});

describe("describeFsError", () => {
  test("what failed, where, and a hint for known codes; the message otherwise", () => {
    const error = (code: string) => Object.assign(new Error(`${code}: raw`), { code });
    expect(describeFsError("write", "/x/.env", error("ENOSPC"))).toBe("cannot write /x/.env: no space left on device: free some space (ENOSPC)");
    expect(describeFsError("write", "/x/.env", error("EROFS"))).toContain("read-only file system");
    expect(describeFsError("read", "/x/.env", error("EWHATEVER"))).toBe("cannot read /x/.env: EWHATEVER: raw");
    expect(describeFsError("read", "/x/.env", "plain")).toBe("cannot read /x/.env: plain");
  });
});
