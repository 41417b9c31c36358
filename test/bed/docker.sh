#!/usr/bin/env bash
# Test bed: the suite's own Docker engine + Compose v2 + a tiny busybox image, set up idempotently.
#
#   test/bed/docker.sh [up]   # everything in place and the suite's dockerd answering; registers the process
#                             # $DOCKER_BED_USER_PID (default: the caller) as a user; last line on stderr: "docker-bed: ready"
#   test/bed/docker.sh stop   # stop the suite's dockerd now (the tests' outage; `up` starts it again): "docker-bed: stopped"
#   test/bed/docker.sh down   # stop it unless a registered process is still alive: "docker-bed: down"
#   test/bed/docker.sh env    # stdout: the variables that point docker at the bed: eval "$(test/bed/docker.sh env)"
#
# A daemon already on the machine is never signalled nor used: the suite's dockerd has its own socket, pid file,
# exec root and config file under $DOCKER_BED_RUN_DIR (default /run/oauth-sync-test), its data root (the
# images) in <cache>/docker-root, kept between runs. A detached watcher stops it about a second after the last
# registered process is gone (`down` does it at once), and removes the run folder.
#
# Steps (each skipped when already done, each timed on stderr):
#   1. docker.io from Debian (if `dockerd` is missing)
#   2. Compose v2 (docker-compose 2.26 from Debian trixie, fetched through a private apt source list so the
#      machine stays on bookworm) copied to <cache>/docker-config/cli-plugins (DOCKER_CONFIG for the tests)
#   3. the suite's dockerd --iptables=false --bridge=none (log: <cache>/dockerd.log)
#   4. image oauth-sync-test/busybox:1 imported from Debian's busybox-static package
#
# Cache: ${OAUTH_SYNC_TESTBED_CACHE:-$HOME/.cache/oauth-sync-testbed}. Needs root (apt, dockerd).
# Environment: DOCKER_BED_TIMEOUT (seconds to wait for dockerd, default 90), DOCKER_BED_STORAGE_DRIVER (default:
# dockerd's own choice, overlay2 where the cache's file system allows it).
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
CACHE="${OAUTH_SYNC_TESTBED_CACHE:-${HOME:-/root}/.cache/oauth-sync-testbed}"
RUN_DIR="${DOCKER_BED_RUN_DIR:-/run/oauth-sync-test}"
SOCK="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/docker.pid"
EXEC_ROOT="$RUN_DIR/exec"
USERS="$RUN_DIR/users"
DATA_ROOT="$CACHE/docker-root"
IMAGE="oauth-sync-test/busybox:1"
TIMEOUT="${DOCKER_BED_TIMEOUT:-90}"
export DEBIAN_FRONTEND=noninteractive
export DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$CACHE/docker-config"
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

log() { echo "docker-bed: $*" >&2; }
die() { echo "docker-bed: FAILED: $*" >&2; exit 1; }
now() { echo "${EPOCHREALTIME/,/.}"; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

if [ "${1:-}" = env ]; then
  printf 'DOCKER_HOST=%s\nDOCKER_CONFIG=%s\n' "$DOCKER_HOST" "$DOCKER_CONFIG"
  exit 0
fi
case "${1:-up}" in up | stop | down | reap) ;; *) die "unknown argument '$1' (usage: docker.sh [up|stop|down|env])" ;; esac

[ "$(id -u)" = 0 ] || die "must run as root (installs packages and starts dockerd)"
mkdir -p "$CACHE" || die "cannot create the cache folder $CACHE"

# One setup at a time (parallel test processes call this too).
exec 9>"$CACHE/docker.lock"
lock() { flock -w 900 9 || die "could not lock $CACHE/docker.lock within 900s (held by: $(fuser "$CACHE/docker.lock" 2>/dev/null))"; }

T_ALL=$(now)

alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
starttime() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }
# PID $1 is the suite's dockerd (its command line names our pid file), alive. Never true for another daemon.
our_dockerd() {
  [ -n "${1:-}" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = dockerd ] && alive "$1" &&
    tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "--pidfile=$PIDFILE"
}
# PID $1 is the daemon this script just started, between its fork and its exec of dockerd (bash, then setsid).
starting() {
  alive "$1" && [ "$(awk '{ sub(/^.*\) /, ""); print $2 }' "/proc/$1/stat" 2>/dev/null)" = "$$" ] &&
    case "$(cat "/proc/$1/comm" 2>/dev/null)" in bash | setsid) true ;; *) false ;; esac
}
daemon_pid() { local p; p=$(cat "$PIDFILE" 2>/dev/null || true); if our_dockerd "$p"; then echo "$p"; fi; return 0; }

# Users: one file per registered process, named by its PID and holding its start time (a reused PID is not alive).
# Written whole (temp file, rename): the reaper reads them without the lock, and once took a file caught between
# truncation and write for a dead user's, removed it, and stopped the daemon under a running suite.
register() {
  local pid="$1"
  alive "$pid" || die "cannot register process $pid as a user: it is not running"
  mkdir -p "$USERS"
  starttime "$pid" >"$USERS/.$pid.tmp" && mv -f "$USERS/.$pid.tmp" "$USERS/$pid"
}
# The registered processes still alive. With "prune" (only under the lock), the files of the others are removed.
live_users() {
  local f pid n=0
  for f in "$USERS"/*; do
    [ -f "$f" ] || continue
    pid=$(basename "$f")
    if alive "$pid" && [ "$(starttime "$pid")" = "$(cat "$f")" ]; then
      n=$((n + 1))
    elif [ "${1:-}" = prune ]; then
      rm -f "$f"
    fi
  done
  echo "$n"
}

# SIGTERM to the suite's dockerd (SIGKILL after 30 s), and wait until it and its containerd are gone.
stop_daemon() {
  local pid="$1" t
  t=$(now)
  log "stopping the suite's dockerd (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while our_dockerd "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if our_dockerd "$pid"; then
    log "dockerd ignored SIGTERM for 30s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.1; done
  fi
  stop_containerd
  log "dockerd stopped ($(took "$t"))"
}

# The containerd dockerd supervises, left running when dockerd was killed: only the one under our exec root.
stop_containerd() {
  local file="$EXEC_ROOT/containerd/containerd.pid" old
  old=$(cat "$file" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$(cat "/proc/$old/comm" 2>/dev/null)" = containerd ] && alive "$old" &&
    tr '\0' '\n' <"/proc/$old/cmdline" | grep -qF "$EXEC_ROOT/"; then
    log "stopping the containerd (pid $old) of the suite's earlier dockerd"
    kill -TERM "$old" 2>/dev/null || true
    for _ in $(seq 50); do alive "$old" || break; sleep 0.1; done
    alive "$old" && kill -KILL "$old" 2>/dev/null
  fi
  rm -f "$file"
}

# Mounts dockerd makes and removes when it stops cleanly (its data root bound on itself, network namespaces under
# the exec root), removed when it did not (killed, or a failed start).
unmount_under() {
  local dir m
  dir=$(readlink -f "$1" 2>/dev/null) || return 0
  for m in $(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || log "could not unmount $m"
  done
}

# The run folder, and what the daemon leaves outside its own folders: containerd's shim sockets in /run/containerd/s.
remove_run_dir() {
  unmount_under "$RUN_DIR"
  unmount_under "$DATA_ROOT"
  if [ -f "$RUN_DIR/made-run-containerd" ]; then
    rmdir /run/containerd/s /run/containerd 2>/dev/null || true
  fi
  rm -rf --one-file-system "$RUN_DIR"
}

case "${1:-up}" in
  stop)
    lock
    PID=$(daemon_pid)
    if [ -z "$PID" ]; then
      log "the suite's dockerd is not running"
    else
      stop_daemon "$PID"
    fi
    echo "docker-bed: stopped" >&2
    exit 0
    ;;
  down)
    lock
    [ -z "${DOCKER_BED_USER_PID:-}" ] || rm -f "$USERS/$DOCKER_BED_USER_PID"
    N=$(live_users prune)
    PID=$(daemon_pid)
    if [ "$N" -gt 0 ]; then
      log "left running: $N other process(es) still use it ($(ls "$USERS" | xargs))"
    else
      [ -z "$PID" ] || stop_daemon "$PID"
      remove_run_dir
    fi
    echo "docker-bed: down" >&2
    exit 0
    ;;
  reap)
    # Detached: stops the daemon $2 once no registered process is alive (checked every second).
    D="$2"
    while our_dockerd "$D"; do
      sleep 1
      if [ "$(live_users)" = 0 ]; then
        lock
        if [ "$(live_users prune)" = 0 ] && our_dockerd "$D"; then
          stop_daemon "$D" 2>>"$CACHE/dockerd.log"
          remove_run_dir
        fi
        flock -u 9
      fi
    done
    # Gone some other way (stopped for an outage, crashed): its folder goes once nobody uses it.
    lock
    if [ "$(live_users prune)" = 0 ] && [ -z "$(daemon_pid)" ]; then remove_run_dir; fi
    exit 0
    ;;
esac

lock
APT_UPDATED=""
apt_install() {
  local apt_log="$CACHE/apt.log"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update (log: $apt_log)"
    flock -w 900 "$CACHE/apt.lock" apt-get update >>"$apt_log" 2>&1 || { tail -n 20 "$apt_log" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  log "apt-get install $* (log: $apt_log)"
  flock -w 900 "$CACHE/apt.lock" apt-get install -y -o APT::Sandbox::User=root -o DPkg::Lock::Timeout=300 --no-install-recommends "$@" >>"$apt_log" 2>&1 ||
    { tail -n 20 "$apt_log" >&2; die "apt-get install $* failed"; }
}

# The Debian mirror the machine already uses (deb822 or one-line format), for the trixie source.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|ftp|file):/) { print $i; exit } }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# --- 1. engine ---------------------------------------------------------------------------------------------
T=$(now)
if command -v dockerd >/dev/null 2>&1; then
  log "dockerd present: $(command -v dockerd)"
else
  log "dockerd missing: installing docker.io"
  apt_install docker.io
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is still not on PATH"
  log "installed docker.io ($(took "$T"))"
fi
command -v docker >/dev/null 2>&1 || die "no docker CLI on PATH"

# --- 2. compose v2 -----------------------------------------------------------------------------------------
T=$(now)
PLUGIN_DIR="$DOCKER_CONFIG/cli-plugins"
compose_ok() { docker compose version --short 2>/dev/null | grep -Eq '^v?2\.'; }
if compose_ok; then
  log "compose present: $(docker compose version --short 2>/dev/null)"
else
  COMPOSE_CACHE="$CACHE/compose"
  PLUGIN_CACHED="$COMPOSE_CACHE/docker-compose"
  if [ ! -x "$PLUGIN_CACHED" ]; then
    APT_DIR="$COMPOSE_CACHE/apt"
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/parts"
    KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$KEYRING" ] || apt_install debian-archive-keyring
    echo "deb [signed-by=$KEYRING] $(debian_mirror) trixie main" >"$APT_DIR/sources.list"
    # Only the private list is read (SourceParts points at an empty folder); the machine stays on bookworm.
    APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o "Dir::Etc::SourceParts=$APT_DIR/parts"
      -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache" -o APT::Sandbox::User=root)
    log "fetching the trixie package index ($(cat "$APT_DIR/sources.list"))"
    apt-get "${APT_OPTS[@]}" update -qq >&2 || die "apt-get update for the trixie source failed"
    DL=$(mktemp -d "$COMPOSE_CACHE/dl.XXXXXX")
    (cd "$DL" && apt-get "${APT_OPTS[@]}" download docker-compose >&2) || { rm -rf "$DL"; die "apt-get download docker-compose (trixie) failed"; }
    DEB=$(ls "$DL"/docker-compose_*.deb 2>/dev/null | head -1)
    [ -n "$DEB" ] || { rm -rf "$DL"; die "no docker-compose .deb was downloaded"; }
    log "downloaded $(basename "$DEB")"
    dpkg -x "$DEB" "$DL/x" || { rm -rf "$DL"; die "dpkg -x $DEB failed"; }
    SRC="$DL/x/usr/libexec/docker/cli-plugins/docker-compose"
    [ -x "$SRC" ] || { rm -rf "$DL"; die "the package has no usr/libexec/docker/cli-plugins/docker-compose"; }
    cp "$SRC" "$PLUGIN_CACHED.tmp" && mv "$PLUGIN_CACHED.tmp" "$PLUGIN_CACHED"
    rm -rf "$DL"
  else
    log "compose plugin cached at $PLUGIN_CACHED"
  fi
  mkdir -p "$PLUGIN_DIR"
  cp "$PLUGIN_CACHED" "$PLUGIN_DIR/docker-compose.tmp" && mv "$PLUGIN_DIR/docker-compose.tmp" "$PLUGIN_DIR/docker-compose"
  compose_ok || die "installed $PLUGIN_DIR/docker-compose but \`docker compose version\` does not report v2: $(docker compose version 2>&1 | tail -3)"
  log "installed compose $(docker compose version --short) ($(took "$T"))"
fi

# --- 3. daemon ---------------------------------------------------------------------------------------------
T=$(now)
engine_ok() { timeout 10 docker info >/dev/null 2>&1; }
register "${DOCKER_BED_USER_PID:-$PPID}"
PID=$(daemon_pid)
if [ -n "$PID" ] && engine_ok; then
  log "the suite's dockerd answering (pid $PID, $DOCKER_HOST)"
else
  LOGFILE="$CACHE/dockerd.log"
  if [ -n "$PID" ]; then
    log "the suite's dockerd is running (pid $PID) but does not answer yet: waiting for it"
    STARTED="$PID"
  else
    mkdir -p "$RUN_DIR" "$DATA_ROOT"
    chmod 700 "$RUN_DIR"
    [ -d /run/containerd ] || touch "$RUN_DIR/made-run-containerd"
    rm -f "$PIDFILE"
    stop_containerd
    # Our own daemon.json: the machine's /etc/docker/daemon.json may name hosts or a data root; the daemon's
    # identity key goes to the cache instead of /etc/docker/key.json.
    printf '{ "deprecated-key-path": "%s" }\n' "$CACHE/docker-key.json" >"$RUN_DIR/daemon.json"
    ARGS=(--host "unix://$SOCK" "--pidfile=$PIDFILE" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT"
      --config-file "$RUN_DIR/daemon.json" --iptables=false --ip-masq=false --bridge=none)
    [ -z "${DOCKER_BED_STORAGE_DRIVER:-}" ] || ARGS+=("--storage-driver=$DOCKER_BED_STORAGE_DRIVER")
    log "starting the suite's dockerd ${ARGS[*]} (log: $LOGFILE)"
    echo "=== $(date -Is) docker-bed starting dockerd" >>"$LOGFILE"
    # Detached (own session, stdin from /dev/null) so it outlives this script; the watcher below stops it. Started
    # in the background rather than with `setsid -f`, so that its pid is known at once ($!: setsid execs dockerd,
    # this shell being no group leader): a start is judged by the process, not by a pid file that a loaded machine
    # may take more than seconds to see written (CI once took a slow start for a dead one and removed the run
    # folder under it). 9>&-: the daemon must not inherit the lock's descriptor, or it would hold the lock forever.
    setsid dockerd "${ARGS[@]}" </dev/null >>"$LOGFILE" 2>&1 9>&- &
    STARTED=$!
  fi
  DEADLINE=$((SECONDS + TIMEOUT))
  until engine_ok; do
    EXITED=""
    our_dockerd "$STARTED" || starting "$STARTED" || EXITED=1
    if [ -n "$EXITED" ] || [ "$SECONDS" -ge "$DEADLINE" ]; then
      echo "---- last lines of $LOGFILE ----" >&2
      tail -n 30 "$LOGFILE" >&2 || true
      # Nothing of the failed start stays behind.
      ! our_dockerd "$STARTED" || stop_daemon "$STARTED"
      remove_run_dir
      [ -z "$EXITED" ] || die "dockerd exited during start-up"
      die "dockerd did not answer \`docker info\` within ${TIMEOUT}s"
    fi
    sleep 0.3
  done
  PID=$(daemon_pid)
  [ -n "$PID" ] || die "a daemon answers on $SOCK but its pid file $PIDFILE names no running dockerd"
  log "dockerd up (pid $PID, $DOCKER_HOST, storage $(docker info --format '{{.Driver}}' 2>/dev/null), $(took "$T"))"
fi
# "REAPER DAEMON": a reaper of this daemon is wanted; the one of a daemon stopped a moment ago may still be in its
# last second.
read -r REAPER REAPS 2>/dev/null <"$RUN_DIR/reaper.pid" || true
if [ -z "${REAPER:-}" ] || [ "${REAPS:-}" != "$PID" ] || ! alive "$REAPER" || [ "$(cat "/proc/$REAPER/comm" 2>/dev/null)" != bash ]; then
  setsid bash "$SELF" reap "$PID" </dev/null >/dev/null 2>&1 8>&- 9>&- &
  echo "$! $PID" >"$RUN_DIR/reaper.pid"
fi

# --- 4. image ----------------------------------------------------------------------------------------------
T=$(now)
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "image $IMAGE present"
else
  BB_CACHE="$CACHE/busybox"
  mkdir -p "$BB_CACHE"
  DEB=$(ls "$BB_CACHE"/busybox-static_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$DEB" ]; then
    log "apt-get download busybox-static"
    (cd "$BB_CACHE" && apt-get -o APT::Sandbox::User=root download busybox-static >&2) || {
      flock -w 900 "$CACHE/apt.lock" apt-get update -qq >&2 || true
      (cd "$BB_CACHE" && apt-get -o APT::Sandbox::User=root download busybox-static >&2) || die "apt-get download busybox-static failed"
    }
    DEB=$(ls "$BB_CACHE"/busybox-static_*.deb | head -1)
  fi
  WORK=$(mktemp -d "$BB_CACHE/build.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  dpkg -x "$DEB" "$WORK/x" || die "dpkg -x $DEB failed"
  ROOT="$WORK/root"
  mkdir -p "$ROOT"/{bin,etc,tmp,proc,sys,dev,root,var/run}
  chmod 1777 "$ROOT/tmp"
  cp "$WORK/x/bin/busybox" "$ROOT/bin/busybox"
  # A link for every applet (sh, sleep, env, cat, echo, ls, kill, ps, grep, wc, ...).
  for applet in $("$ROOT/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$ROOT/bin/$applet"
  done
  for a in sh sleep env cat echo ls kill; do [ -e "$ROOT/bin/$a" ] || die "busybox has no applet $a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ROOT/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
  log "importing $IMAGE ($(ls "$ROOT/bin" | wc -l) entries in /bin)"
  tar --numeric-owner --owner=0 --group=0 -C "$ROOT" -c . |
    docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$IMAGE" >/dev/null || die "docker import $IMAGE failed"
  docker run --rm --network none "$IMAGE" sh -c 'echo hello' | grep -qx hello || die "the imported image does not run: docker run $IMAGE sh -c 'echo hello'"
  log "image $IMAGE imported ($(took "$T"))"
fi

log "all steps done in $(took "$T_ALL")"
echo "docker-bed: ready" >&2
