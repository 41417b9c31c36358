/**
 * Token copies an earlier release wrote where no OpenClaw reads them: a target whose OpenClaw "state dir" holds
 * nothing but what oauth-sync itself wrote (no openclaw.json, no workspace: only `agents/<id>/agent/auth-profiles.json`
 * or `credentials/oauth.json`), made by this process's user. The known case: releases before the compose resolver
 * read upstream's nested default `${OPENCLAW_CONFIG_DIR:-${HOME:-/tmp}/.openclaw}` as `/root/.openclaw}`, and the
 * service wrote the live token into `/root/.openclaw}/agents/main/agent/auth-profiles.json` for as long as it ran.
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync } from "node:fs";
import { dirname } from "node:path";
import { selfUid } from "../fs/place.ts";
import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, at, openDir } from "../fs/walk.ts";
import { removeTree } from "./no-follow.ts";

export interface Stray {
  /** The token copy. */
  file: string;
  /** The directory that holds only oauth-sync's files, removed with it. */
  root: string;
}

const O_DIR = O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
const TEMP = /^\..+\.oauth-sync-[0-9a-f]{12}\.tmp$/;

/** The stray behind a target, when its tree is oauth-sync's alone; undefined for anything OpenClaw (or a person) made. */
export function strayOf(target: { kind: string; path?: string }): Stray | undefined {
  if (!target.path) return undefined;
  const layout =
    target.kind === "openclaw-auth-profiles" && /\/agents\/[^/]+\/agent\/auth-profiles\.json$/.test(target.path)
      ? { root: dirname(dirname(dirname(dirname(target.path)))), shape: AGENT_FILE }
      : target.kind === "openclaw-oauth-json" && target.path.endsWith("/credentials/oauth.json")
        ? { root: dirname(dirname(target.path)), shape: OAUTH_FILE }
        : undefined;
  if (!layout) return undefined;
  return onlyOurs(layout.root, layout.shape) ? { file: target.path, root: layout.root } : undefined;
}

/** The one shape of path each kind writes (a name per level, `*` any plain name), the file last. */
const AGENT_FILE = ["agents", "*", "agent", "auth-profiles.json"];
const OAUTH_FILE = ["credentials", "oauth.json"];

/** Whether `rel` is a directory on the way to, or the file of, `shape` (or one of our temp files beside it). */
function fits(rel: string[], shape: string[], isFile: boolean): boolean {
  if (isFile ? rel.length !== shape.length : rel.length >= shape.length) return false;
  return rel.every((name, i) => {
    const want = shape[i]!;
    if (isFile && i === shape.length - 1) return name === want || TEMP.test(name);
    return want === "*" ? /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) : name === want;
  });
}

/** Every entry under `root` fits `shape`, every directory is ours, and there are few: walked without links. */
function onlyOurs(root: string, shape: string[]): boolean {
  let dir;
  try {
    dir = openDir(root);
  } catch {
    return false;
  }
  let budget = 200;
  const walk = (fd: number, rel: string[]): boolean => {
    if (fstatSync(fd).uid !== selfUid()) return false;
    const entries = readdirSync(`/proc/self/fd/${fd}`);
    if (rel.length > 0 && entries.length === 0) return true;
    for (const name of entries) {
      if (--budget < 0) return false;
      const info = lstatSync(at(fd, name));
      if (info.isDirectory()) {
        if (!fits([...rel, name], shape, false)) return false;
        const child = openSync(at(fd, name), O_DIR);
        try {
          if (!walk(child, [...rel, name])) return false;
        } finally {
          closeSync(child);
        }
      } else if (!info.isFile() || !fits([...rel, name], shape, true)) return false;
    }
    return true;
  };
  try {
    return walk(dir.fd, []) && readdirSync(`/proc/self/fd/${dir.fd}`).length > 0;
  } catch {
    return false;
  } finally {
    closeSync(dir.fd);
  }
}

/** Removes a stray's whole tree (checked again just before: it holds nothing else) through the no-follow walk. */
export function removeStray(stray: Stray): boolean {
  const again = strayOf({ kind: stray.file.endsWith("oauth.json") ? "openclaw-oauth-json" : "openclaw-auth-profiles", path: stray.file });
  return again ? removeTree(again.root).removed : false;
}
