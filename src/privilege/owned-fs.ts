import { closeSync } from "node:fs";
import { writeFileAtomic, type WriteOptions, type WriteOutcome } from "../fs/atomic-write.ts";
import { readRegularFile } from "../fs/open-file.ts";
import { describeActor, requireOwnPlace, selfUid } from "../fs/place.ts";
import { removeFileHere } from "../fs/remove.ts";
import { openDir } from "../fs/walk.ts";
import { runAsOwner } from "./as-owner.ts";
import { handoverFor } from "./handover.ts";

/**
 * Writes a file with the rights of whoever owns its directory: here when that is us, else in the worker acting as
 * them (src/privilege/pool.ts), which gets exactly the data to write. Root then reads the file back itself: a
 * worker's claim of a write is believed only when the file holds the data.
 */
export async function writeFileAsOwner(path: string, data: string, options: WriteOptions = {}): Promise<WriteOutcome> {
  const hand = handoverFor(path);
  if (!hand.ok) throw new Error(`${path}: ${hand.message}`);
  if (hand.actor.uid === selfUid()) return writeFileAtomic(path, data, options);
  if (selfUid() !== 0) throw new Error(`${path} belongs to ${describeActor(hand.actor)}: run as root or as that user`);
  const answer = await runAsOwner(hand.actor, hand.top, { op: "write-file", path: hand.realPath, data, newFileMode: options.newFileMode, mode: options.mode });
  if (!answer.ok) throw new Error(answer.error);
  const back = readRegularFile(path, Math.max(Buffer.byteLength(data), 1));
  if (!back.ok || back.text !== data) throw new Error(`${path}: acting as ${describeActor(hand.actor)} reported a write, but the file does not hold what was sent`);
  return answer.written ?? "written";
}

/** mkdir -p (0700) with the rights of whoever owns the deepest existing parent: a user's tree stays theirs. */
export async function makeDirAsOwner(dir: string): Promise<void> {
  const hand = handoverFor(dir, true);
  if (!hand.ok) throw new Error(`${dir}: ${hand.message}`);
  if (hand.actor.uid === selfUid()) {
    closeSync(openDir(dir, { create: true, check: requireOwnPlace }).fd);
    return;
  }
  const answer = await runAsOwner(hand.actor, hand.top, { op: "mkdir", path: hand.realPath });
  if (!answer.ok) throw new Error(answer.error);
  try {
    closeSync(openDir(dir).fd);
  } catch (error) {
    throw new Error(`${dir}: acting as ${describeActor(hand.actor)} reported it made, but ${(error as Error).message}`);
  }
}

/** The worker (worker.ts) removes files in its own places the same way. */
export { removeFileHere };

/** Removes a file with the rights of whoever owns its directory. A missing file is fine. */
export async function removeFileAsOwner(path: string): Promise<void> {
  const hand = handoverFor(path);
  if (!hand.ok) throw new Error(`${path}: ${hand.message}`);
  if (hand.actor.uid === selfUid()) return removeFileHere(path);
  const answer = await runAsOwner(hand.actor, hand.top, { op: "unlink", path: hand.realPath });
  if (!answer.ok) throw new Error(answer.error);
  const back = readRegularFile(path, 1);
  if (back.ok || back.code !== "ENOENT") throw new Error(`${path}: acting as ${describeActor(hand.actor)} reported it removed, but it is still there`);
}
