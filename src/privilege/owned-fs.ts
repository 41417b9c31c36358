import { closeSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, type WriteOptions, type WriteOutcome } from "../fs/atomic-write.ts";
import { placeOf, requireOwnPlace, selfUid, describeActor } from "../fs/place.ts";
import { openDir } from "../fs/walk.ts";
import { removeFileHere } from "../fs/remove.ts";
import { runProcess, type ProcessRunner } from "../process/run.ts";
import { runAsOwner } from "./as-owner.ts";

/** The child (child.ts) removes files in its own places the same way. */
export { removeFileHere };

/** Writes a file with the rights of whoever owns its directory: here when that is us, else in a child as them. */
export async function writeFileAsOwner(path: string, data: string, options: WriteOptions = {}, run: ProcessRunner = runProcess): Promise<WriteOutcome> {
  const place = placeOf(path);
  if (!place.ok) throw new Error(`${path}: ${place.message}`);
  if (place.actor.uid === selfUid()) return writeFileAtomic(path, data, options);
  if (selfUid() !== 0) throw new Error(`${path} belongs to ${describeActor(place.actor)}: run as root or as that user`);
  const answer = await runAsOwner(place.actor, { op: "write-file", path, data, newFileMode: options.newFileMode, mode: options.mode }, run);
  if (!answer.ok) throw new Error(answer.error);
  return answer.written ?? "written";
}

/** mkdir -p (0700) with the rights of whoever owns the deepest existing parent: a user's tree stays theirs. */
export async function makeDirAsOwner(dir: string, run: ProcessRunner = runProcess): Promise<void> {
  const place = placeOf(join(dir, ".probe"));
  if (!place.ok) throw new Error(`${dir}: ${place.message}`);
  if (place.actor.uid === selfUid()) {
    closeSync(openDir(dir, { create: true, check: requireOwnPlace }).fd);
    return;
  }
  const answer = await runAsOwner(place.actor, { op: "mkdir", path: dir }, run);
  if (!answer.ok) throw new Error(answer.error);
}

/** Removes a file with the rights of whoever owns its directory. A missing file is fine. */
export async function removeFileAsOwner(path: string, run: ProcessRunner = runProcess): Promise<void> {
  const place = placeOf(path);
  if (!place.ok) throw new Error(`${path}: ${place.message}`);
  if (place.actor.uid === selfUid()) return removeFileHere(path);
  const answer = await runAsOwner(place.actor, { op: "unlink", path }, run);
  if (!answer.ok) throw new Error(answer.error);
}
