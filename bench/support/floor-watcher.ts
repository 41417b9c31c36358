/**
 * The durable floor for bench/latency.ts and bench/idle.ts: the least a compiled Bun binary with @parcel/watcher can
 * do for the same job as `watch` on the demo's three file targets. On an event naming the credentials file it reads
 * and parses them, maps the token into `auth-profiles.json`, `oauth.json` and `.env` (each read, changed, written
 * durably: temp file, fsync, rename, fsync of the directory) and nothing else: no state, no checks, no logging.
 *   floor-watcher CREDENTIALS AUTH_PROFILES OAUTH_JSON ENV_FILE…   (any of the three may be left out: "-")
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { basename, dirname } from "node:path";
import { watcher } from "../../src/watch/native.ts";

const [credentials, authProfiles, oauthJson, ...envFiles] = process.argv.slice(2) as [string, string, string, ...string[]];
const name = basename(credentials);

function writeDurably(path: string, text: string) {
  const temp = `${path}.floor.tmp`;
  const fd = openSync(temp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

const readJson = (path: string): Record<string, any> => {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return {};
  }
};

function copy() {
  const login = JSON.parse(readFileSync(credentials, "utf8")).claudeAiOauth;
  if (authProfiles !== "-") {
    const store = readJson(authProfiles);
    store.profiles = { ...store.profiles, "anthropic:default": { type: "token", provider: "anthropic", token: login.accessToken, expires: login.expiresAt } };
    writeDurably(authProfiles, `${JSON.stringify({ version: 1, ...store }, null, 2)}\n`);
  }
  if (oauthJson !== "-") {
    const store = readJson(oauthJson);
    store.anthropic = { access: login.accessToken, refresh: login.refreshToken, expires: login.expiresAt };
    writeDurably(oauthJson, `${JSON.stringify(store, null, 2)}\n`);
  }
  for (const env of envFiles) {
    const text = (() => {
      try {
        return readFileSync(env, "utf8");
      } catch {
        return "";
      }
    })();
    const line = `ANTHROPIC_OAUTH_TOKEN=${login.accessToken}`;
    writeDurably(env, /^ANTHROPIC_OAUTH_TOKEN=.*$/m.test(text) ? text.replace(/^ANTHROPIC_OAUTH_TOKEN=.*$/m, line) : `${text}${line}\n`);
  }
}

// Missing directories are made once, at start (oauth-sync makes them on the way, 0700).
for (const path of [authProfiles, oauthJson, ...envFiles]) if (path !== "-") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
copy();
// No top-level await: the bytecode build (as build.ts makes oauth-sync) is CommonJS.
void watcher
  .subscribe(
    dirname(credentials),
    (_error, events) => {
      if (events.some((event) => basename(event.path) === name)) copy();
    },
    { backend: "inotify" },
  )
  .then(() => console.log("ready"));
