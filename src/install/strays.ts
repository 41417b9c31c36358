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
      ? { root: dirname(dirname(dirname(dirname(target.path)))), allowed: (rel: string[]) => isAgentFile(rel) }
      : target.kind === "openclaw-oauth-json" && /\/credentials\/oauth\.json$/.test(target.path)
        ? { root: dirname(dirname(target.path)), allowed: (rel: string[]) => rel.length === 2 && rel[0] === "credentials" && (rel[1] === "oauth.json" || TEMP.test(rel[1]!)) }
        : undefined;
  if (!layout) return undefined;
  return onlyOurs(layout.root, layout.allowed) ? { file: target.path, root: layout.root } : undefined;
}

function isAgentFile(rel: string[]): boolean {
  return rel.length === 4 && rel[0] === "agents" && rel[2] === "agent" && (rel[3] === "auth-profiles.json" || TEMP.test(rel[3]!));
}

/** Every file under `root` is one `allowed` names, every directory is ours, and there are few: walked without links. */
function onlyOurs(root: string, allowed: (rel: string[]) => boolean): boolean {
  let dir;
  try {
    dir = openDir(root);
  } catch {
    return false;
  }
  let budget = 200;
  const walk = (fd: number, rel: string[]): boolean => {
    if (fstatSync(fd).uid !== selfUid() || rel.length > 4) return false;
    const entries = readdirSync(`/proc/self/fd/${fd}`);
    if (rel.length > 0 && entries.length === 0) return true;
    for (const name of entries) {
      if (--budget < 0) return false;
      const info = lstatSync(at(fd, name));
      if (info.isDirectory()) {
        const child = openSync(at(fd, name), O_DIR);
        try {
          if (!walk(child, [...rel, name])) return false;
        } finally {
          closeSync(child);
        }
      } else if (!info.isFile() || !allowed([...rel, name])) return false;
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
