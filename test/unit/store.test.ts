import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "../../src/config/zod.ts";
import { gatewaySection } from "../../src/gateway/types.ts";
import { hostsSection } from "../../src/push/record.ts";
import { takePidLock } from "../../src/fs/pid-lock.ts";
import { defineSection, loadState, STATE_LOCK, stateWriteProblem, updateSections } from "../../src/state/store.ts";
import { sourceSection, targetsSection } from "../../src/sync/record.ts";
import { watchSection } from "../../src/watch/record.ts";

/** The state file: a record for a restarted service and for `status`, one writer per section, never fatal. */

const root = mkdtempSync(join(tmpdir(), "oauth-sync-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const dir = join(root, `state-${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
};
const file = (dir: string) => join(dir, "state.json");
const read = (dir: string) => JSON.parse(readFileSync(file(dir), "utf8"));

describe("loadState", () => {
  test("missing, empty, not JSON, another version, an array: an empty record, never a throw", async () => {
    const dir = fresh();
    expect(await loadState(dir)).toEqual({ version: 1 });
    for (const text of ["", "{", "[]", '{"version":2,"gateway":{"pending":true}}', "null"]) {
      writeFileSync(file(dir), text);
      expect(await loadState(dir)).toEqual({ version: 1 });
    }
  });

  test("sections that are not objects are dropped; the others are kept as they are", async () => {
    const dir = fresh();
    writeFileSync(file(dir), JSON.stringify({ version: 1, gateway: "broken", watch: { missed: 2 }, future: { x: 1 } }));
    expect(await loadState(dir)).toEqual({ version: 1, watch: { missed: 2 }, future: { x: 1 } } as never);
  });

  test("a FIFO at the name is not waited on (the record reads as empty)", async () => {
    const dir = fresh();
    expect(Bun.spawnSync(["mkfifo", file(dir)]).exitCode).toBe(0);
    expect(await loadState(dir)).toEqual({ version: 1 });
  });
});

describe("the record this process knows", () => {
  test("read again only when the file changed: another writer's rename, an edit in place of the same size", async () => {
    const dir = fresh();
    await watchSection.update(dir, (mine) => void (mine.watch = { missed: 1 }));
    expect(watchSection.read(await loadState(dir))).toEqual({ missed: 1 });
    // Another process (a `sync` verb) writes by temp file and rename.
    writeFileSync(join(dir, "other.json"), JSON.stringify({ version: 1, watch: { missed: 2 } }));
    Bun.spawnSync(["mv", join(dir, "other.json"), file(dir)]);
    expect(watchSection.read(await loadState(dir))).toEqual({ missed: 2 });
    // A person's editor, in place, same length.
    await Bun.sleep(5);
    writeFileSync(file(dir), JSON.stringify({ version: 1, watch: { missed: 3 } }));
    expect(watchSection.read(await loadState(dir))).toEqual({ missed: 3 });
    // What a caller does to the record it got never reaches the next reader.
    const state = await loadState(dir);
    (state as { watch?: { missed?: number } }).watch!.missed = 99;
    expect(watchSection.read(await loadState(dir))).toEqual({ missed: 3 });
  });
});

describe("sections", () => {
  test("a section is read through its schema: a damaged one reads as absent", async () => {
    const dir = fresh();
    writeFileSync(file(dir), JSON.stringify({ version: 1, gateway: { pending: "yes", attempts: 3 }, watch: { missed: 1, lastMissedBy: "look" } }));
    const state = await loadState(dir);
    expect(gatewaySection.read(state)).toBeUndefined();
    expect(watchSection.read(state)).toEqual({ missed: 1, lastMissedBy: "look" });
  });

  test("a writer sees and changes only its own sections; the others (and unknown ones) are kept byte for byte", async () => {
    const dir = fresh();
    writeFileSync(file(dir), JSON.stringify({ version: 1, watch: { missed: 4 }, future: { kept: true }, targets: { a: { fingerprint: "aaaaaaaaaaaa" } } }));
    const seen = await gatewaySection.update(dir, (mine) => {
      mine.gateway = { pending: true, attempts: 1 };
      return Object.keys(mine);
    });
    expect(seen).toEqual(["gateway"]);
    expect(read(dir)).toEqual({ version: 1, watch: { missed: 4 }, future: { kept: true }, targets: { a: { fingerprint: "aaaaaaaaaaaa" } }, gateway: { pending: true, attempts: 1 } });
    // Removing one's own section removes it; a damaged section left alone by its writer stays as it was.
    writeFileSync(file(dir), JSON.stringify({ ...read(dir), hosts: { h: { failures: "many" } } }));
    await gatewaySection.update(dir, (mine) => void (mine.gateway = undefined));
    expect(read(dir).gateway).toBeUndefined();
    expect(read(dir).hosts).toEqual({ h: { failures: "many" } });
    // …and its writer replaces it.
    await hostsSection.update(dir, (mine) => void (mine.hosts = { ...mine.hosts, h: { failures: 1 } }));
    expect(read(dir).hosts).toEqual({ h: { failures: 1 } });
  });

  test("one read-modify-write of two sections at once (the sync pass writes source and targets together)", async () => {
    const dir = fresh();
    await updateSections(dir, [sourceSection, targetsSection], (mine) => {
      mine.source = { fingerprint: "bbbbbbbbbbbb", expiresAt: 1 };
      mine.targets = { t: { fingerprint: "bbbbbbbbbbbb" } };
    });
    expect(read(dir)).toEqual({ version: 1, source: { fingerprint: "bbbbbbbbbbbb", expiresAt: 1 }, targets: { t: { fingerprint: "bbbbbbbbbbbb" } } });
  });

  test("nothing changed, nothing written (an idle reconcile leaves the file's inode and mtime alone)", async () => {
    const dir = fresh();
    await watchSection.update(dir, (mine) => void (mine.watch = { missed: 1 }));
    const before = statSync(file(dir));
    await Bun.sleep(10);
    await watchSection.update(dir, (mine) => void (mine.watch = { missed: 1 }));
    const after = statSync(file(dir));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  test("writers one at a time per directory: 50 concurrent increments by two writers all count", async () => {
    const dir = fresh();
    const pause = () => Bun.sleep(Math.random() * 2);
    await Promise.all([
      ...Array.from({ length: 25 }, () => watchSection.update(dir, async (mine) => void (await pause(), (mine.watch = { missed: (mine.watch?.missed ?? 0) + 1 })))),
      ...Array.from({ length: 25 }, () => gatewaySection.update(dir, async (mine) => void (await pause(), (mine.gateway = { attempts: (mine.gateway?.attempts ?? 0) + 1 })))),
    ]);
    expect(read(dir).watch.missed).toBe(25);
    expect(read(dir).gateway.attempts).toBe(25);
  });

  test("written 0600 by temp file and rename: no temp file is left, a failing mutate writes nothing", async () => {
    const dir = fresh();
    await watchSection.update(dir, (mine) => void (mine.watch = { missed: 1 }));
    expect(statSync(file(dir)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["state.json"]);
    const before = readFileSync(file(dir), "utf8");
    await expect(
      watchSection.update(dir, (mine) => {
        mine.watch = { missed: 99 };
        throw new Error("bug in a writer");
      }),
    ).rejects.toThrow("bug in a writer");
    expect(readFileSync(file(dir), "utf8")).toBe(before);
    // The next writer is not stuck behind the failed one.
    await watchSection.update(dir, (mine) => void (mine.watch = { missed: 2 }));
    expect(read(dir).watch.missed).toBe(2);
  });

  test("across processes: a record another process wrote between the read and the lock is changed as it is then", async () => {
    const dir = fresh();
    await watchSection.update(dir, (mine) => void (mine.watch = { missed: 1 }));
    const seen: Array<number | undefined> = [];
    await gatewaySection.update(dir, (mine) => {
      seen.push(mine.gateway?.attempts);
      // Another process (here: by hand, temp file and rename as the store does) updates both sections meanwhile, once.
      if (seen.length === 1) {
        writeFileSync(join(dir, "other.json"), JSON.stringify({ version: 1, watch: { missed: 2 }, gateway: { attempts: 5 } }));
        Bun.spawnSync(["mv", join(dir, "other.json"), file(dir)]);
      }
      mine.gateway = { ...mine.gateway, attempts: (mine.gateway?.attempts ?? 0) + 1 };
    });
    // Run once on the record as read, once more under the lock on the other's: both updates are kept.
    expect(seen).toEqual([undefined, 5]);
    expect(read(dir)).toEqual({ version: 1, watch: { missed: 2 }, gateway: { attempts: 6 } });
  });

  test("across processes: a change waits for the state lock another process holds; a read that changes nothing does not", async () => {
    const dir = fresh();
    await watchSection.update(dir, (mine) => void (mine.watch = { missed: 1 }));
    const held = await takePidLock(dir, STATE_LOCK.name, STATE_LOCK);
    if (!held.taken) throw new Error("lock");
    const started = Date.now();
    await watchSection.update(dir, (mine) => void (mine.watch = { missed: 1 }));
    expect(Date.now() - started).toBeLessThan(100);
    let done = false;
    const changing = watchSection.update(dir, (mine) => void (mine.watch = { missed: 2 })).then(() => (done = true));
    await Bun.sleep(150);
    expect(done).toBe(false);
    expect(read(dir).watch.missed).toBe(1);
    held.release();
    await changing;
    expect(read(dir).watch.missed).toBe(2);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  test("each section has one writer: defining it a second time is refused", () => {
    expect(() => defineSection("gateway", z.object({}))).toThrow('"gateway" is defined twice');
  });
});

describe("stateWriteProblem", () => {
  test("a writable directory: none (and the probe is gone); no directory yet: none", async () => {
    const dir = fresh();
    expect(await stateWriteProblem(dir)).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    expect(await stateWriteProblem(join(root, "never-made"))).toBeUndefined();
  });

  test.skipIf(process.getuid?.() === 0)("a read-only directory is named (as a normal user: root writes anyway)", async () => {
    const dir = fresh();
    Bun.spawnSync(["chmod", "500", dir]);
    try {
      expect(await stateWriteProblem(dir)).toBeString();
    } finally {
      Bun.spawnSync(["chmod", "700", dir]);
    }
  });
});
