import { existsSync } from "node:fs";

/** A flag's value checked beyond its type: an error refuses the command line, a warning is printed and it goes on. */
export type ValueCheck = (value: string) => { error: string } | { warn: string } | undefined;

const checks = new WeakMap<object, ValueCheck>();

/** Attach a check to a citty arg declaration (the declaration itself is returned, unchanged for citty). */
export function checked<T extends object>(def: T, check: ValueCheck): T {
  checks.set(def, check);
  return def;
}

export const checkOf = (def: object): ValueCheck | undefined => checks.get(def);

export const wholeNumber =
  (min: number, max: number): ValueCheck =>
  (value) =>
    /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max ? undefined : { error: `is not a whole number from ${min} to ${max}` };

/** An OpenClaw release as its package.json says: 2026.9.6 (a pre-release suffix allowed). */
export const releaseVersion: ValueCheck = (value) =>
  /^\d{4}\.\d{1,2}\.\d{1,3}(?:[-+][0-9A-Za-z.-]+)?$/.test(value) ? undefined : { error: "is not an OpenClaw release: YEAR.MONTH.PATCH, e.g. 2026.9.6" };

/** A file that may appear later (Claude Code writes it at `claude auth login`): said, not refused. */
export const fileOrLater =
  (what: string): ValueCheck =>
  (value) =>
    existsSync(value) ? undefined : { warn: `does not exist yet: ${what} will wait for it to appear` };

/** A TCP port. */
export const port: ValueCheck = (value) => (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535 ? undefined : { error: "is not a port (1-65535)" });
