import { closeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { decideChain } from "../fs/place.ts";
import type { Actor } from "../fs/trust.ts";
import { openDeepest, type DirStep } from "../fs/walk.ts";

/** A directory as root found it: by path, and by device and inode (a directory recreated at the same path differs). */
export interface DirId {
  path: string;
  dev: number;
  ino: number;
}

export type Handover =
  | {
      ok: true;
      actor: Actor;
      /** Where the owner's part of the path begins: root opens the way down to here, the owner walks on from here. */
      top: DirId;
      /** The path with every link root followed resolved: it lies below `top`, as the owner's walk must see it. */
      realPath: string;
    }
  | { ok: false; message: string };

/**
 * Who must act for `path` (a file, or with `isDir` a directory to make), after the trust rules of src/fs/trust.ts
 * on the chain root walked, and which directory to hand them: the highest one of the run of directories that
 * belong to that owner and end at the deepest existing one. The owner then needs no right at all on the directories
 * above it (OpenClaw's Hetzner layout: state owned by uid 1000 under root's 0700 /root).
 */
export function handoverFor(path: string, isDir = false): Handover {
  const wanted = resolve(path);
  const deepest = openDeepest(isDir ? wanted : dirname(wanted));
  if (!deepest.ok) return { ok: false, message: deepest.error.message };
  closeSync(deepest.dir.fd);
  const { chain } = deepest.dir;
  const decision = decideChain(chain);
  if (!decision.ok) return { ok: false, message: decision.message };
  const top = ownersPart(chain, decision.actor.uid);
  const below = [...deepest.missing, ...(isDir ? [] : [basename(wanted)])];
  return { ok: true, actor: decision.actor, top: { path: top.path, dev: top.dev ?? -1, ino: top.ino ?? -1 }, realPath: join(deepest.dir.path, ...below) };
}

/** Pure: the highest directory of the run at the end of `chain` that belongs to `uid` (the last one at least). */
export function ownersPart(chain: DirStep[], uid: number): DirStep {
  let i = chain.length - 1;
  while (i > 0 && chain[i - 1]!.uid === uid) i--;
  return chain[i]!;
}
