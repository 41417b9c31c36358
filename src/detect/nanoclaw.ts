/**
 * NanoClaw (github.com/qwibitai/nanoclaw): a Node service (`nanoclaw.service`, or `nanoclaw-v2-<slug>.service` from
 * 2.x; a system unit when set up as root, else the user's own in ~/.config/systemd/user) whose WorkingDirectory is
 * its git checkout; it reads `CLAUDE_CODE_OAUTH_TOKEN` from `.env` in that directory. How often it reads it depends on
 * the release, decided here from its own source (origins in test/fixtures/nanoclaw-upstream/README.md):
 * - up to 1.2.11 (commit 8521e42f7b8d991d7e842c9a8d6915464ec5d0cb): `readSecrets()` in src/container-runner.ts calls
 *   `readEnvFile()` for every container it spawns: a rewritten .env is used by the next container, no restart;
 * - from 13ce4aaf67d5f86c1f5c071611f166b507320ed1 (2026-03-09) to deee4b2a96384b8a02352edb6a646867c4878f29 (1.2.21),
 *   and the later `/use-native-credential-proxy` skill: src/credential-proxy.ts reads .env once, when it starts;
 * - OneCLI (from e9369617f, 2026-03-18; all of 2.x): the token lives in OneCLI's vault, not in .env.
 * Forks patch in their own refresh from ~/.claude/.credentials.json (upstream PRs #656, #930; issue #2503): a
 * second refresher on the CLI's login. Such code is recognised by what it must contain to refresh at all: the
 * `refresh_token` grant sent to an OAuth token endpoint.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { readTextIfRegular } from "../fs/open-file.ts";
import { parsePasswd } from "../users/accounts.ts";
import type { Found } from "./openclaw.ts";
import { execStartArgv, userOfHome } from "./native.ts";

export type NanoClawReads = "per-container" | "at-start" | "onecli" | "unknown";

export interface NanoClawInstall {
  projectDir: string;
  envFile: string;
  /** The unit that runs it; `user` set for a user's own unit (systemctl --user). */
  unit?: { name: string; path: string; user?: string };
  /** Who owns the project directory (and so the .env NanoClaw reads). */
  owner?: { user: string; uid: number };
  version?: string;
  reads: NanoClawReads;
  /** The file whose code decided `reads`. */
  readsFrom?: string;
  /** .env sets CLAUDE_CODE_OAUTH_TOKEN (or ANTHROPIC_API_KEY, which NanoClaw prefers). */
  envToken: boolean;
  apiKey: boolean;
  /** Its CLAUDE_CODE_OAUTH_TOKEN line is one NanoClaw's reader misreads, and why. */
  envLineProblem?: string;
  /** Files that refresh the login themselves. */
  refreshers: string[];
  /** Files that read the CLI's ~/.claude/.credentials.json directly (without refreshing). */
  credentialsReaders: string[];
}

const SYSTEM_UNIT_DIRS = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];
const UNIT_NAME = /^nanoclaw(-[A-Za-z0-9_.-]+)?\.service$/;
/** Bounds for reading someone else's source tree as root: a checkout's src and dist are a few hundred files. */
const MAX_FILES = 2000;
const MAX_DEPTH = 5;
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** Pure: a unit's WorkingDirectory and User (the `-` prefix that tolerates a missing directory dropped). */
export function unitFacts(text: string): { workingDirectory?: string; user?: string; execStart?: string[] } {
  const service = text.split(/^\s*\[Service\]\s*$/m)[1]?.split(/^\s*\[/m)[0] ?? "";
  const value = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*(.*?)\\s*$`, "m").exec(service)?.[1];
  const workingDirectory = value("WorkingDirectory")?.replace(/^-/, "");
  return { workingDirectory: workingDirectory || undefined, user: value("User") || undefined, execStart: execStartArgv(text) };
}

/** Pure: is this unit NanoClaw's? Node (or bun/tsx) on a `dist/index.js` (or `src/index.ts`) of its WorkingDirectory. */
export function projectOfUnit(text: string): string | undefined {
  const facts = unitFacts(text);
  const script = facts.execStart?.find((arg) => /(^|\/)(dist\/index\.js|src\/index\.ts)$/.test(arg));
  if (!script) return facts.workingDirectory;
  return script.startsWith("/") ? dirname(dirname(script)) : facts.workingDirectory;
}

export interface SourceFile {
  path: string;
  text: string;
}

const readsEnvFile = (text: string) => /\breadEnvFile\s*\(/.test(text) && /CLAUDE_CODE_OAUTH_TOKEN/.test(text);

/**
 * Pure: how this NanoClaw reads the token, from its own code. The container runner that calls readEnvFile for the
 * token reads it per container (1.x, and forks that took OneCLI out again); a credential proxy that does reads it
 * once at start; the OneCLI SDK means a vault. The compiled dist/ is what runs: it is looked at before src/.
 */
export function classifyReads(files: SourceFile[], packageJson: string | undefined): { reads: NanoClawReads; from?: string } {
  const ordered = [...files].sort((a, b) => Number(b.path.includes("/dist/")) - Number(a.path.includes("/dist/")));
  const named = (name: RegExp) => ordered.filter((f) => name.test(basename(f.path)));
  const runner = named(/^container-runner\.(js|ts)$/).find((f) => readsEnvFile(f.text));
  if (runner) return { reads: "per-container", from: runner.path };
  const proxy = named(/^credential-proxy\.(js|ts)$/).find((f) => readsEnvFile(f.text));
  const started = named(/^index\.(js|ts)$/).some((f) => /\bstartCredentialProxy\b/.test(f.text));
  if (proxy && started) return { reads: "at-start", from: proxy.path };
  if (/"@onecli-sh\/sdk"/.test(packageJson ?? "") || ordered.some((f) => /@onecli-sh\/sdk/.test(f.text))) {
    return { reads: "onecli", from: packageJson ? "package.json" : undefined };
  }
  return { reads: "unknown" };
}

/**
 * Pure: the files that refresh the Claude login themselves. To refresh at all, code must send the `refresh_token`
 * grant to an OAuth token endpoint (Anthropic's `/v1/oauth/token`): that is what is looked for, not names a fork
 * may choose. Code that only reads ~/.claude/.credentials.json is listed apart: it races nobody.
 */
export function refreshEvidence(files: SourceFile[]): { refreshers: string[]; credentialsReaders: string[] } {
  const refreshers: string[] = [];
  const credentialsReaders: string[] = [];
  for (const file of files) {
    const grant = /grant_type["'`]?\s*[:=,]\s*["'`]refresh_token["'`]|grant_type=refresh_token/.test(file.text);
    const endpoint = /\/v1\/oauth\/token|oauth\/token["'`]/.test(file.text);
    if (grant && endpoint) refreshers.push(file.path);
    else if (/\.credentials\.json/.test(file.text)) credentialsReaders.push(file.path);
  }
  return { refreshers, credentialsReaders };
}

/** Source files of a checkout, bounded: src/ and dist/ (never node_modules), links not followed. */
async function sourceFiles(root: string, projectDir: string): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  const visit = async (dir: string, depth: number) => {
    if (depth > MAX_DEPTH || files.length >= MAX_FILES) return;
    const entries = await readdir(join(root, dir), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (files.length >= MAX_FILES) return;
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "node_modules" && !entry.name.startsWith(".")) await visit(path, depth + 1);
      else if (entry.isFile() && /\.(m?js|ts)$/.test(entry.name) && !/\.(test|spec)\.(m?js|ts)$/.test(entry.name)) {
        const text = readTextIfRegular(join(root, path), MAX_FILE_BYTES);
        if (text !== undefined) files.push({ path, text });
      }
    }
  };
  for (const part of ["dist", "src"]) await visit(join(projectDir, part), 0);
  return files;
}

/**
 * Pure: what NanoClaw's .env says that matters here. Its reader (KEY=value per line, `#` lines skipped) knows no
 * `export` prefix and no comment after a value: oauth-sync keeps both where it writes, so a line that has them is
 * one NanoClaw never reads right, before or after.
 */
export function envFacts(text: string | undefined): { envToken: boolean; apiKey: boolean; envLineProblem?: string } {
  const set = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*\\S`, "m").test(text ?? "");
  const lines = (text ?? "").split("\n").filter((line) => /^\s*(export\s+)?CLAUDE_CODE_OAUTH_TOKEN\s*=/.test(line));
  const problem = lines.some((line) => /^\s*export\s/.test(line))
    ? "starts with `export`, which NanoClaw's reader does not skip (it never sees the variable)"
    : lines.some((line) => /=.*\s#/.test(line) && !/=\s*#/.test(line))
      ? "has a comment after the value, which NanoClaw's reader takes as part of the token"
      : undefined;
  return { envToken: set("CLAUDE_CODE_OAUTH_TOKEN"), apiKey: set("ANTHROPIC_API_KEY"), ...(problem ? { envLineProblem: problem } : {}) };
}

/** Everything about one checkout: what it is, who owns it, how it reads the token, whether it refreshes itself. */
export async function nanoclawAt(root: string, projectDir: string, unit?: NanoClawInstall["unit"]): Promise<NanoClawInstall | undefined> {
  const packageJson = readTextIfRegular(join(root, projectDir, "package.json"), 1024 * 1024);
  let name: unknown;
  let version: unknown;
  try {
    ({ name, version } = JSON.parse(packageJson ?? "null") ?? {});
  } catch {
    return undefined;
  }
  const files = await sourceFiles(root, projectDir);
  // A fork may rename its package; its container runner says what it is.
  if (name !== "nanoclaw" && !files.some((f) => /^container-runner\.(js|ts)$/.test(basename(f.path)))) return undefined;
  const info = await stat(join(root, projectDir)).catch(() => undefined);
  const passwd = readTextIfRegular(join(root, "/etc/passwd")) ?? "";
  const ownerName = info ? (parsePasswd(passwd).find((e) => e.uid === info.uid)?.name ?? (info.uid === 0 ? "root" : String(info.uid))) : undefined;
  const envFile = join(projectDir, ".env");
  const { reads, from } = classifyReads(files, packageJson);
  return {
    projectDir,
    envFile,
    ...(unit ? { unit } : {}),
    ...(info && ownerName ? { owner: { user: ownerName, uid: info.uid } } : {}),
    ...(typeof version === "string" ? { version } : {}),
    reads,
    ...(from ? { readsFrom: from } : {}),
    ...envFacts(readTextIfRegular(join(root, envFile), 1024 * 1024)),
    ...refreshEvidence(files),
  };
}

/**
 * NanoClaw installs on this machine (under `root`, a seam for tests): its units, system-wide and in each home's
 * ~/.config/systemd/user, and a checkout at ~/nanoclaw without a unit (started by hand).
 */
export async function nanoclawInstalls(root: string, homes: string[]): Promise<{ found: Found<NanoClawInstall>[]; skipped: string[] }> {
  const found: Found<NanoClawInstall>[] = [];
  const skipped: string[] = [];
  const passwd = readTextIfRegular(join(root, "/etc/passwd")) ?? "";
  const add = async (projectDir: string | undefined, source: string, unit?: NanoClawInstall["unit"]) => {
    if (!projectDir || !projectDir.startsWith("/") || found.some((f) => f.value.projectDir === projectDir)) return;
    // A user writes their own unit: a directory name that no config may hold is skipped, never a reason to fail.
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f-\x9f]/.test(projectDir + (unit?.name ?? ""))) return void skipped.push(`${JSON.stringify(projectDir)} (${source.replace(/[^\x20-\x7e]/g, "?")}): not a plain path`);
    const install = await nanoclawAt(root, projectDir, unit);
    if (install) found.push({ value: install, source });
  };
  const unitDirs: Array<[string, string | undefined]> = [
    ...SYSTEM_UNIT_DIRS.map((dir): [string, undefined] => [dir, undefined]),
    ...homes.map((home): [string, string | undefined] => [join(home, ".config/systemd/user"), userOfHome(passwd, home)]),
  ];
  for (const [dir, user] of unitDirs) {
    const names = (await readdir(join(root, dir)).catch(() => [] as string[])).filter((n) => UNIT_NAME.test(n)).sort();
    for (const name of names) {
      const path = join(dir, name);
      const text = readTextIfRegular(join(root, path), 256 * 1024);
      if (text === undefined) continue;
      await add(projectOfUnit(text), `${user ? `${user}'s user unit` : "system unit"} ${path}`, { name, path, ...(user ? { user } : {}) });
    }
  }
  for (const home of homes) await add(join(home, "nanoclaw"), `${join(home, "nanoclaw")} (no unit found)`);
  return { found, skipped };
}
