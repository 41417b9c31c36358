import { parsePasswd } from "../users/accounts.ts";
import { readTextIfRegular } from "../fs/open-file.ts";
/**
 * Native and Podman installs: `~/.openclaw` and named profiles (`~/.openclaw-NAME`, `openclaw --profile NAME`) of
 * root and each user, their gateway units (`openclaw-gateway[-NAME].service`, system or the user's own), the units of
 * their Podman Quadlets (src/detect/quadlet.ts), and the openclaw binary the owner really runs.
 */
import { readdir, readFile, readlink, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { packageRelease, stateFacts, type Found, type OpenClawInstall } from "./openclaw.ts";
import { quadletUnits } from "./quadlet.ts";

export { parseQuadlet, quadletInstalls } from "./quadlet.ts";

const SYSTEM_UNIT_DIRS = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];
const exists = async (root: string, path: string) => Boolean(await stat(join(root, path)).catch(() => undefined));

/** Pure: the user name of a home in /etc/passwd (else /home/NAME's NAME, root for /root; else unknown). */
export function userOfHome(passwd: string, home: string): string | undefined {
  return parsePasswd(passwd).find((e) => e.home === home)?.name ?? (home === "/root" ? "root" : /^\/home\/([^/]+)$/.exec(home)?.[1]);
}

/** Pure: the uid of a user in /etc/passwd. */
export function uidOf(passwd: string, user: string | undefined): number | undefined {
  return parsePasswd(passwd).find((e) => e.name === user)?.uid;
}

/** Pure: the profile of a state dir name: `.openclaw` → none, `.openclaw-work` → work; other names → not a state dir. */
export function profileOfDir(name: string): { profile?: string } | undefined {
  if (name === ".openclaw") return {};
  const match = /^\.openclaw-([A-Za-z0-9][A-Za-z0-9_.-]*)$/.exec(name);
  return match && match[1] !== "backups" ? { profile: match[1] } : undefined;
}

/** Pure: the unit name OpenClaw gives a profile's gateway. */
export const gatewayUnitName = (profile?: string) => (profile ? `openclaw-gateway-${profile}.service` : "openclaw-gateway.service");

/** How to run a user's openclaw: the argv prefix, and the directory to put first on PATH (where its `node` is). */
export interface OpenClawCli {
  argv: string[];
  pathDir?: string;
}

/** Pure: a unit's ExecStart split as systemd splits it (prefixes such as `-` and `@` dropped, double quotes honoured). */
export function execStartArgv(unit: string): string[] | undefined {
  const service = unit.split(/^\s*\[Service\]\s*$/m)[1]?.split(/^\s*\[/m)[0] ?? unit;
  const line = /^\s*ExecStart\s*=\s*[-@:+!]*(.+)$/m.exec(service)?.[1];
  if (!line) return undefined;
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]!).replace(/\\(.)/g, "$1"));
}

/**
 * Pure: how a unit's ExecStart runs openclaw: `…/openclaw` directly, or a node/bun on OpenClaw's entry
 * (`…/openclaw/dist/index.js`, `openclaw.mjs`), which is what `openclaw gateway install` writes.
 */
export function execStartOpenClaw(unit: string): OpenClawCli | undefined {
  const argv = execStartArgv(unit);
  if (!argv?.length) return undefined;
  const [program, script] = argv as [string, string | undefined];
  if (/(^|\/)openclaw$/.test(program)) return { argv: [program] };
  if (/(^|\/)(node|bun)$/.test(program) && script && /(^|\/)(openclaw\.mjs|dist\/index\.js|openclaw)$/.test(script)) {
    return { argv: [program, script], ...(program.startsWith("/") ? { pathDir: dirname(program) } : {}) };
  }
  return undefined;
}

/** Where a user's own openclaw lives, first found wins: the gateway unit's ExecStart, nvm, the npm prefix, ~/.local/bin. */
export async function findOpenClawBinary(root: string, home: string, unitText?: string): Promise<Found<OpenClawCli> | undefined> {
  const fromUnit = unitText ? execStartOpenClaw(unitText) : undefined;
  if (fromUnit && (await exists(root, fromUnit.argv.at(-1)!))) {
    const program = fromUnit.argv[0]!;
    const besideNode = fromUnit.argv.length === 1 && program.startsWith("/") && (await exists(root, join(dirname(program), "node")));
    return { value: besideNode ? { ...fromUnit, pathDir: dirname(program) } : fromUnit, source: "the gateway unit's ExecStart" };
  }
  const candidates: Array<[string, string]> = [];
  const nvm = join(home, ".nvm/versions/node");
  const versions = (await readdir(join(root, nvm)).catch(() => [] as string[])).sort(byVersionDesc);
  for (const v of versions) candidates.push([join(nvm, v, "bin/openclaw"), `nvm (node ${v})`]);
  const npmrc = (readTextIfRegular(join(root, home, ".npmrc")) ?? "");
  const prefix = /^\s*prefix\s*=\s*(.+?)\s*$/m.exec(npmrc)?.[1]?.replace(/^(~|\$HOME|\$\{HOME\})(?=\/)/, home);
  if (prefix) candidates.push([join(prefix, "bin/openclaw"), `npm prefix ${prefix} (~/.npmrc)`]);
  candidates.push([join(home, ".npm-global/bin/openclaw"), "npm prefix ~/.npm-global"], [join(home, ".local/bin/openclaw"), "~/.local/bin"]);
  candidates.push([join(home, ".openclaw/bin/openclaw"), "~/.openclaw/bin"], ["/usr/local/bin/openclaw", "/usr/local/bin"], ["/usr/bin/openclaw", "/usr/bin"]);
  for (const [path, source] of candidates) {
    if (!(await exists(root, path))) continue;
    // `openclaw` is a `#!/usr/bin/env node` script: where a node sits beside it (nvm), that dir goes first on PATH.
    const pathDir = (await exists(root, join(dirname(path), "node"))) ? dirname(path) : undefined;
    return { value: { argv: [path], ...(pathDir ? { pathDir } : {}) }, source };
  }
  return undefined;
}

function byVersionDesc(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, "").split(".").map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
  return 0;
}

/** The gateway unit for a profile: the user's own (`~/.config/systemd/user`) first, then a system unit. */
async function gatewayUnit(root: string, home: string, user: string | undefined, profile?: string): Promise<{ name: string; user?: string; source: string; text: string } | undefined> {
  const name = gatewayUnitName(profile);
  const own = join(home, ".config/systemd/user", name);
  const text = readTextIfRegular(join(root, own));
  if (text !== undefined) return { name, user: user ?? basename(home), source: `${own} (user unit of ${user ?? home})`, text };
  for (const dir of SYSTEM_UNIT_DIRS) {
    const path = join(dir, name);
    const system = readTextIfRegular(join(root, path));
    if (system !== undefined) return { name, source: path, text: system };
  }
  return undefined;
}

/** Native installs in one home: `~/.openclaw` and every `~/.openclaw-NAME` profile. */
export async function nativeInstalls(root: string, home: string): Promise<Found<OpenClawInstall>[]> {
  const passwd = (readTextIfRegular(join(root, "/etc/passwd")) ?? "");
  const user = userOfHome(passwd, home);
  const found: Found<OpenClawInstall>[] = [];
  const names = (await readdir(join(root, home)).catch(() => [] as string[])).filter((n) => profileOfDir(n)).sort();
  for (const name of names) {
    const stateDir = join(home, name);
    if (!(await stat(join(root, stateDir)).catch(() => undefined))?.isDirectory()) continue;
    const { profile } = profileOfDir(name)!;
    const release = await packageRelease(root, stateDir);
    const unit = await gatewayUnit(root, home, user, profile);
    const binary = await findOpenClawBinary(root, home, unit?.text);
    const value: OpenClawInstall = {
      kind: "native",
      stateDir,
      release,
      ...(profile ? { profile } : {}),
      ...(user ? { owner: { user, home } } : {}),
      ...(binary ? { cli: binary.value } : {}),
      ...(unit ? { unit: { name: unit.name, user: unit.user, source: unit.source } } : {}),
      ...(await stateFacts(root, stateDir)),
    };
    const parts = [`${stateDir} exists`, ...(profile ? [`profile ${profile}`] : []), ...(release ? [`release ${release}`] : [])];
    if (binary) parts.push(`openclaw ${binary.value.argv.join(" ")} (${binary.source})`);
    if (unit) parts.push(`gateway ${unit.source}`);
    found.push({ value, source: parts.join(", ") });
  }
  return found;
}

/** Every gateway unit file on the machine (for the detection report): system units, users' units, Quadlets. */
export async function gatewayUnitFiles(root: string, homes: string[]): Promise<Found<{ user?: string; home?: string; name: string }>[]> {
  const found: Found<{ user?: string; home?: string; name: string }>[] = [];
  const isGateway = (n: string) => /^openclaw-gateway(-[A-Za-z0-9_.-]+)?\.service$/.test(n);
  for (const dir of SYSTEM_UNIT_DIRS) {
    for (const name of (await readdir(join(root, dir)).catch(() => [] as string[])).filter(isGateway)) {
      if (!found.some((f) => f.value.name === name && !f.value.user)) found.push({ value: { name }, source: join(dir, name) });
    }
  }
  const passwd = (readTextIfRegular(join(root, "/etc/passwd")) ?? "");
  for (const home of homes) {
    const user = userOfHome(passwd, home);
    const dir = join(home, ".config/systemd/user");
    for (const name of (await readdir(join(root, dir)).catch(() => [] as string[])).filter(isGateway)) {
      found.push({ value: { user: user ?? basename(home), home, name }, source: `${join(dir, name)} (user unit of ${user ?? home})` });
    }
    for (const unit of await quadletUnits(root, home)) {
      found.push({ value: { user: unit.user ?? basename(home), home, name: unit.name }, source: `${unit.path} (Quadlet: user unit ${unit.name} of ${unit.user ?? home})` });
    }
  }
  return found;
}

/**
 * Pure: the state dir a running process serves, when it is an OpenClaw gateway: argv and environment (NUL-separated)
 * and the files it holds open. A 2026.9 gateway renames itself `openclaw-gateway` (its argv is gone) and holds
 * `<state>/state/openclaw.sqlite` open; otherwise `--profile`, OPENCLAW_STATE_DIR and HOME say where.
 */
export function gatewayStateDir(cmdline: string, environ: string, openFiles: string[] = []): string | undefined {
  const argv = cmdline.split("\0").filter(Boolean);
  const entry = argv.findIndex((a) => /(^|\/)(openclaw|openclaw\.mjs|dist\/index\.js)$/.test(a));
  const titled = /^openclaw-gateway\b/.test(argv[0] ?? "");
  if (!titled && (entry < 0 || !argv.slice(entry + 1).includes("gateway"))) return undefined;
  for (const file of openFiles) {
    const store = /^(\/.+)\/state\/openclaw\.sqlite$/.exec(file)?.[1];
    if (store) return store;
  }
  // Renamed, store not open yet (starting up): its argv, and so its profile, is gone; no guess.
  if (titled) return undefined;
  const env = new Map(environ.split("\0").map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as [string, string]));
  const flag = argv.indexOf("--profile");
  const profile = flag > 0 ? argv[flag + 1] : argv.includes("--dev") ? "dev" : env.get("OPENCLAW_PROFILE");
  const explicit = env.get("OPENCLAW_STATE_DIR");
  if (explicit) return explicit;
  const home = env.get("HOME");
  return home ? join(home, profile ? `.openclaw-${profile}` : ".openclaw") : undefined;
}

/** State dirs served by OpenClaw gateways running on this machine (read from /proc; a seam for tests). */
export async function runningGatewayStateDirs(proc = "/proc"): Promise<string[]> {
  const dirs = new Set<string>();
  for (const pid of (await readdir(proc).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n))) {
    const cmdline = await readFile(join(proc, pid, "cmdline"), "latin1").catch(() => "");
    if (!cmdline.includes("gateway")) continue;
    const fds = await readdir(join(proc, pid, "fd")).catch(() => [] as string[]);
    const open = (await Promise.all(fds.map((fd) => readlink(join(proc, pid, "fd", fd)).catch(() => "")))).filter(Boolean);
    const dir = gatewayStateDir(cmdline, await readFile(join(proc, pid, "environ"), "latin1").catch(() => ""), open);
    if (dir) dirs.add(dir);
  }
  return [...dirs];
}
