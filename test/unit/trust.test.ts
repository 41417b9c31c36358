/**
 * decidePlace with the host's /etc/subuid and /etc/subgid: the layouts operators really have (rootless Podman with and
 * without keep-id, Docker's userns-remap, OpenClaw's Hetzner guide) and the third parties that stay refused, with the
 * fix each refusal gives. No advice ever changes the owner of a home directory or of one above a home.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decidePlace, describeUid, isHomeOrAbove, principalOf } from "../../src/fs/trust.ts";
import type { DirStep } from "../../src/fs/walk.ts";
import { accountsFrom, type AccountFiles } from "../../src/users/accounts.ts";
import { parseSubordinate, rangeHolder } from "../../src/users/subordinate.ts";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/bash",
  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
  "poduser:x:1000:1000::/home/poduser:/bin/bash",
  "alice:x:1001:1001::/home/alice:/bin/bash",
  "openclaw:x:998:998::/home/openclaw:/usr/sbin/nologin",
  "dockremap:x:997:997::/nonexistent:/bin/false",
].join("\n");
const GROUP = ["root:x:0:", "poduser:x:1000:", "alice:x:1001:", "users:x:100:poduser,alice", "docker:x:996:", "openclaw:x:998:", "dockremap:x:997:"].join("\n");
const SUBUID = "poduser:165536:65536\nalice:231072:65536\nopenclaw:400000:65536\n";

function facts(over: Partial<AccountFiles> = {}) {
  return accountsFrom({ passwd: PASSWD, group: GROUP, subuid: SUBUID, subgid: SUBUID, ...over });
}

/** A chain from `/` down: [path, uid, gid, mode]. `/` and `/home` are root's 0755 unless given. */
function chain(...steps: Array<[string, number, number?, number?]>): DirStep[] {
  const given = new Map(steps.map(([path, uid, gid, mode]) => [path, { path, uid, gid: gid ?? uid, mode: mode ?? 0o700 }]));
  const paths = [...new Set(["/", ...steps.map(([p]) => p)].flatMap((p) => p.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/") || "/")))];
  return paths.map((path) => given.get(path) ?? { path, uid: 0, gid: 0, mode: 0o755 });
}

const HOME = "/home/poduser";
const STATE = `${HOME}/.openclaw`;
const AGENT = `${STATE}/agents/main/agent`;

describe("rootless Podman: a user's subordinate uids are that user's", () => {
  test("without keep-id (podman run --user 1000:1000, podman unshare chown): written as the subordinate uid", () => {
    const c = chain([HOME, 1000], [STATE, 166535], [`${STATE}/agents`, 166535], [`${STATE}/agents/main`, 166535], [AGENT, 166535]);
    expect(decidePlace(c, facts())).toEqual({ ok: true, actor: { uid: 166535, gid: 166535 } });
  });

  test("with keep-id: the user's own files, as before", () => {
    const c = chain([HOME, 1000], [STATE, 1000], [`${STATE}/agents`, 1000], [`${STATE}/agents/main`, 1000], [AGENT, 1000]);
    expect(decidePlace(c, facts())).toEqual({ ok: true, actor: { uid: 1000, gid: 1000 } });
  });

  test("a tree mixing the user and its containers' uids (a Quadlet switched to keep-id later) is the user's either way", () => {
    expect(decidePlace(chain([HOME, 1000], [STATE, 166535], [AGENT, 1000]), facts())).toEqual({ ok: true, actor: { uid: 1000, gid: 1000 } });
    expect(decidePlace(chain([HOME, 1000], [STATE, 165536], [AGENT, 166535]), facts())).toEqual({ ok: true, actor: { uid: 166535, gid: 166535 } });
  });

  test("upstream's dedicated `openclaw` user (nologin shell, linger) owns its range like any account", () => {
    const c = chain(["/home/openclaw", 998], ["/home/openclaw/.openclaw", 400999], ["/home/openclaw/.openclaw/agents/main/agent", 400999]);
    expect(decidePlace(c, facts())).toEqual({ ok: true, actor: { uid: 400999, gid: 400999 } });
  });

  test("a range named by uid (`1000:165536:65536`) is the same account's; its group by /etc/subgid", () => {
    const numeric = facts({ subuid: "1000:165536:65536\n", subgid: "1000:165536:65536\n" });
    expect(decidePlace(chain([HOME, 1000], [STATE, 166535], [AGENT, 166535]), numeric).ok).toBe(true);
    // A state dir group-writable by the container's gid (in poduser's /etc/subgid range) is still poduser's alone.
    expect(decidePlace(chain([HOME, 1000], [STATE, 166535, 166535, 0o770], [AGENT, 166535]), numeric).ok).toBe(true);
  });

  test("a program for such a place runs as the user, not as the container's uid", () => {
    expect(principalOf(166535, facts())).toBe(1000);
    expect(principalOf(1000, facts())).toBe(1000);
    expect(principalOf(0, facts())).toBe(0);
    expect(principalOf(500000, facts())).toBe(500000);
    expect(describeUid(166535, facts())).toBe("uid 166535 (a subordinate uid of poduser in /etc/subuid: a user of its rootless containers)");
  });
});

describe("third parties stay refused, with a fix that never re-owns a home", () => {
  test("another user's container uid under poduser's home", () => {
    const c = chain([HOME, 1000], [STATE, 232071], [AGENT, 232071]); // alice's range
    const d = decidePlace(c, facts());
    expect(d.ok).toBe(false);
    expect(d.ok || d.message).toBe(
      "/home/poduser belongs to poduser (uid 1000), but /home/poduser/.openclaw/agents/main/agent belongs to uid 232071 (a subordinate uid of alice in /etc/subuid: a user of its rootless containers): a third party could redirect what oauth-sync writes there; fix: move /home/poduser/.openclaw out of /home/poduser into a directory that only alice or root can change (for example under alice's home)",
    );
  });

  test("a uid in no range under a user's home (a range /etc/subuid no longer has): podman unshare / keep-id, never chown of the home", () => {
    const d = decidePlace(chain([HOME, 1000], [STATE, 100999], [AGENT, 100999]), facts());
    expect(d.ok || d.message).toBe(
      "/home/poduser belongs to poduser (uid 1000), but /home/poduser/.openclaw/agents/main/agent belongs to uid 100999: a third party could redirect what oauth-sync writes there; fix: move /home/poduser/.openclaw out of /home/poduser to a directory only root can change (for example /srv/openclaw) and mount it from there; if it is poduser's rootless Podman container, run it with UserNS=keep-id and give the files back with `podman unshare chown -R 0:0 /home/poduser/.openclaw` (as poduser)",
    );
    // Before ranges were known, the same refusal said `chown 166535 /home/poduser`.
    expect(d.ok || d.message).not.toMatch(/chown \S+ \/home\/poduser(\s|`|$)/);
  });

  test("overlapping ranges: a uid two accounts can become is neither's", () => {
    const overlap = facts({ subuid: "poduser:165536:65536\nalice:200000:65536\n" });
    const d = decidePlace(chain([HOME, 1000], [STATE, 200999], [AGENT, 200999]), overlap);
    expect(d.ok).toBe(false);
    expect(d.ok || d.message).toContain("uid 200999 (in the /etc/subuid ranges of alice and poduser at once)");
    expect(d.ok || d.message).toContain("give each account its own range in /etc/subuid");
    // A uid that is an account of its own and inside a range: not the range holder's alone either.
    expect(rangeHolder(parseSubordinate("poduser:1000:65536\n"), 1001, accountsFrom({ passwd: PASSWD, group: GROUP }).passwd)).toEqual({ kind: "user", uid: 1000, name: "poduser" });
    expect(facts({ subuid: "poduser:1001:10\n" }).subuidHolder(1001)).toEqual({ kind: "shared", names: ["alice", "poduser"] });
  });

  test("malformed lines, a range past 2^32, count 0 and comments give no range", () => {
    const bad = "# poduser:165536:65536\npoduser:abc:65536\npoduser:165536\npoduser:165536:0\npoduser:4294967290:100\n:165536:65536\npoduser:165536:65536:1\n";
    expect(parseSubordinate(bad)).toEqual([]);
    expect(decidePlace(chain([HOME, 1000], [STATE, 166535], [AGENT, 166535]), facts({ subuid: bad })).ok).toBe(false);
    expect(parseSubordinate(" poduser:165536:65536 \r\n")).toEqual([{ owner: "poduser", start: 165536, count: 65536 }]);
  });

  test("a range named for an account /etc/passwd does not list is trusted by no one", () => {
    const ghost = facts({ subuid: "ghost:165536:65536\n" });
    const d = decidePlace(chain([HOME, 1000], [STATE, 166535], [AGENT, 166535]), ghost);
    expect(d.ok || d.message).toContain("uid 166535 (in the /etc/subuid range of ghost, who is not in /etc/passwd)");
    expect(d.ok || d.message).toContain("if ghost is an account of this host that /etc/passwd does not list, name its ranges by uid in /etc/subuid and /etc/subgid (`UID:START:COUNT`)");
  });

  test("root's range (rootful containers) is no login's: its uid cannot vouch for root's place, nor a user's home for it", () => {
    const rootRange = facts({ subuid: "root:100000:65536\n" });
    expect(decidePlace(chain(["/srv/oc", 100999], ["/srv/oc/agent", 0]), rootRange).ok).toBe(false);
    expect(decidePlace(chain(["/home/alice", 1001], ["/home/alice/.openclaw", 100999]), rootRange).ok).toBe(false);
    expect(decidePlace(chain(["/srv/oc", 0], ["/srv/oc/agent", 100999]), rootRange)).toEqual({ ok: true, actor: { uid: 100999, gid: 100999 } });
  });

  test("a root-owned state in a user's home: move it, or give it to the user below the home", () => {
    const d = decidePlace(chain(["/home/alice", 1001], ["/home/alice/.openclaw", 0]), facts());
    expect(d.ok || d.message).toContain("fix: move /home/alice/.openclaw to a directory only root can change (for example /srv/openclaw), or, if it is alice's, `chown -R alice /home/alice/.openclaw`");
  });

  test("outside homes the directory itself is re-owned: to the place's login, or to root for a container's uid", () => {
    expect(decidePlace(chain(["/srv/oc", 1001], ["/srv/oc/state", 166535]), facts())).toMatchObject({ ok: false });
    expect((decidePlace(chain(["/srv/oc", 1001], ["/srv/oc/state", 166535]), facts()) as { message: string }).message).toEndWith("fix: `chown poduser /srv/oc`");
    expect((decidePlace(chain(["/srv/oc", 1001], ["/srv/oc/state", 1000]), facts()) as { message: string }).message).toEndWith("fix: `chown poduser /srv/oc`");
    expect((decidePlace(chain(["/srv/oc", 1001], ["/srv/oc/state", 5000]), facts()) as { message: string }).message).toEndWith("fix: `chown root /srv/oc`");
  });

  test("a directory above homes that a user owns is reported, never re-owned by a command", () => {
    const d = decidePlace(chain(["/home", 1001, 1001, 0o755], [HOME, 1000], [STATE, 1000]), facts());
    expect(d.ok || d.message).toContain("/home lies above home directories and should be root's alone");
    expect(d.ok || d.message).not.toContain("chown");
  });

  test("group and world write are still refused (chmod advice), a sticky /tmp still allowed", () => {
    expect((decidePlace(chain([HOME, 1000, 100, 0o770], [STATE, 1000]), facts()) as { message: string }).message).toContain("`chmod g-w /home/poduser`");
    // A group in another account's /etc/subgid range is that account's containers' group: not poduser's.
    expect(decidePlace(chain([HOME, 1000], [STATE, 166535, 232000, 0o770], [AGENT, 166535]), facts()).ok).toBe(false);
    expect((decidePlace(chain([HOME, 1000, 1000, 0o777], [STATE, 1000]), facts()) as { message: string }).message).toContain("`chmod o-w /home/poduser`");
    expect(decidePlace(chain(["/tmp", 0, 0, 0o1777], ["/tmp/x", 166535]), facts()).ok).toBe(true);
  });
});

describe("Docker's userns-remap and OpenClaw's Hetzner guide", () => {
  const remap = (docker = "") => facts({ subuid: `${SUBUID}dockremap:331072:65536\n`, subgid: `${SUBUID}dockremap:331072:65536\n`, group: GROUP.replace("docker:x:996:", `docker:x:996:${docker}`) });

  test("Hetzner: /root 0700, the state chowned 1000:1000 for the container: written as 1000", () => {
    const c = chain(["/root", 0], ["/root/.openclaw", 1000, 1000, 0o755], ["/root/.openclaw/agents/main/agent", 1000, 1000, 0o700]);
    // uid 1000 is poduser here: the guide's chown gives the state to whoever has uid 1000, and it is written as them.
    expect(decidePlace(c, facts())).toEqual({ ok: true, actor: { uid: 1000, gid: 1000 } });
    expect(decidePlace(c, facts({ passwd: "root:x:0:0:root:/root:/bin/bash" }))).toEqual({ ok: true, actor: { uid: 1000, gid: 1000 } });
  });

  test("userns-remap under /root: the container's uid 1000 is 332072 on the host, written as that", () => {
    const c = chain(["/root", 0], ["/root/.openclaw", 332072, 332072, 0o755], ["/root/.openclaw/agents/main/agent", 332072]);
    expect(decidePlace(c, remap())).toEqual({ ok: true, actor: { uid: 332072, gid: 332072 } });
    expect(describeUid(332072, remap())).toBe("uid 332072 (dockremap's range in /etc/subuid: a container's user under Docker's userns-remap)");
  });

  test("userns-remap under a docker user's home (upstream's setup.sh chowns ~/.openclaw to the container's 1000): theirs", () => {
    const c = chain(["/home/alice", 1001], ["/home/alice/.openclaw", 332072], ["/home/alice/.openclaw/agents/main/agent", 332072]);
    expect(decidePlace(c, remap("alice"))).toEqual({ ok: true, actor: { uid: 332072, gid: 332072 } });
  });

  test("userns-remap under the home of a user who cannot command Docker: refused, the fix moves the state", () => {
    const c = chain(["/home/alice", 1001], ["/home/alice/.openclaw", 332072], ["/home/alice/.openclaw/agents/main/agent", 332072]);
    const d = decidePlace(c, remap());
    expect(d.ok || d.message).toBe(
      "/home/alice belongs to alice (uid 1001), but /home/alice/.openclaw/agents/main/agent belongs to uid 332072 (dockremap's range in /etc/subuid: a container's user under Docker's userns-remap): a third party could redirect what oauth-sync writes there; fix: move /home/alice/.openclaw out of /home/alice to a directory only root can change (for example /srv/openclaw) and bind-mount it from there (OPENCLAW_CONFIG_DIR)",
    );
    // dockremap's uids are no login's: they never vouch for a user's place either.
    expect(principalOf(332072, remap())).toBe(332072);
    expect(decidePlace(chain(["/home/alice", 1001], ["/home/alice/.openclaw", 332072], ["/home/alice/.openclaw/agent", 1001]), remap()).ok).toBe(false);
  });
});

describe("no advice re-owns a home directory or one above a home", () => {
  const homes = ["/root", "/home/poduser", "/home/alice", "/home/openclaw", "/usr/sbin", "/nonexistent"];

  test("isHomeOrAbove", () => {
    for (const dir of ["/", "/home", "/home/alice", "/home/alice/", "/usr", "/root", "/nonexistent"]) expect(isHomeOrAbove(dir, homes)).toBe(true);
    for (const dir of ["/home/alice/.openclaw", "/srv", "/srv/openclaw", "/opt", "/home2"]) expect(isHomeOrAbove(dir, homes)).toBe(false);
  });

  test("property: for any chain of owners and modes, every chown in the advice names no home and nothing above one", () => {
    const paths = ["/home", HOME, STATE, `${STATE}/agents`, AGENT];
    const uids = [0, 1000, 1001, 998, 166535, 232071, 400999, 332072, 100999, 5000];
    const arb = fc.record({
      steps: fc.array(fc.tuple(fc.constantFrom(...uids), fc.constantFrom(...uids), fc.constantFrom(0o700, 0o755, 0o770, 0o777, 0o1777)), { minLength: paths.length, maxLength: paths.length }),
      root: fc.constantFrom("/home", "/srv/x", "/root"),
      docker: fc.constantFrom("", "alice", "poduser"),
      subuid: fc.constantFrom(SUBUID, "", "poduser:165536:65536\nalice:165536:65536\n", `${SUBUID}dockremap:331072:65536\n`, "root:100000:65536\n1000:165536:65536\n"),
    });
    fc.assert(
      fc.property(arb, ({ steps, root, docker, subuid }) => {
        const c = chain(...paths.map((p, i) => [p.replace(/^\/home/, root), steps[i]![0], steps[i]![1], steps[i]![2]] as [string, number, number, number]));
        const d = decidePlace(c, accountsFrom({ passwd: PASSWD, group: GROUP.replace("docker:x:996:", `docker:x:996:${docker}`), subuid, subgid: subuid }));
        if (d.ok) return;
        for (const command of d.message.match(/`[^`]*chown[^`]*`/g) ?? []) {
          const args = command.slice(1, -1).split(/\s+/).filter((a) => a.startsWith("/"));
          expect(args.length).toBeGreaterThan(0);
          for (const path of args) expect(isHomeOrAbove(path, homes)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("a directory of oauth-sync's own (state, config) in someone's home", () => {
  test("a home is never to be re-owned: another directory is asked for; below a home, the chown is given", async () => {
    const { ownDirProblem } = await import("../../src/fs/place.ts");
    expect(ownDirProblem(chain([HOME, 1000]), HOME, facts(), 0)).toBe(
      "/home/poduser belongs to poduser (uid 1000), who could change what oauth-sync does: it is a home directory (or above one), never to be re-owned: choose a directory of root's for it instead",
    );
    expect(ownDirProblem(chain([HOME, 1000], [`${HOME}/state`, 1000]), `${HOME}/state`, facts(), 0)).toEndWith("fix: `chown 0:0 /home/poduser/state && chmod go-w /home/poduser/state`");
    expect(ownDirProblem(chain(["/var/lib/oauth-sync", 0]), "/var/lib/oauth-sync", facts(), 0)).toBeUndefined();
  });
});
