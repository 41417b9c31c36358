#!/usr/bin/env bash
# Test bed: a real Docker engine + Compose v2 + a tiny busybox image, set up idempotently.
#
#   test/bed/docker.sh [up]       # make sure everything is there; last line on stderr: "docker-bed: ready"
#   test/bed/docker.sh stop       # stop the running dockerd (SIGTERM, SIGKILL after 30s); "docker-bed: stopped"
#
# Steps (each skipped when already done, each timed on stderr):
#   1. docker.io from Debian (if `dockerd` is missing)
#   2. Compose v2 (docker-compose 2.26 from Debian trixie, fetched through a private apt source list so the
#      machine stays on bookworm) copied to ~/.docker/cli-plugins/docker-compose
#   3. dockerd --iptables=false --storage-driver=vfs --bridge=none, started detached if the socket does not
#      answer (log: <cache>/dockerd.log); it keeps running after this script (and the tests) end
#   4. image oauth-sync-test/busybox:1 imported from Debian's busybox-static package
#
# Cache: ${OAUTH_SYNC_TESTBED_CACHE:-$HOME/.cache/oauth-sync-testbed}. Needs root (apt, dockerd).
# Environment: DOCKER_BED_TIMEOUT (seconds to wait for dockerd, default 90).
set -euo pipefail

CACHE="${OAUTH_SYNC_TESTBED_CACHE:-${HOME:-/root}/.cache/oauth-sync-testbed}"
IMAGE="oauth-sync-test/busybox:1"
TIMEOUT="${DOCKER_BED_TIMEOUT:-90}"
export DEBIAN_FRONTEND=noninteractive

log() { echo "docker-bed: $*" >&2; }
die() { echo "docker-bed: FAILED: $*" >&2; exit 1; }
now() { echo "${EPOCHREALTIME/,/.}"; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages and starts dockerd)"
mkdir -p "$CACHE" || die "cannot create the cache folder $CACHE"

# One setup at a time (parallel test processes call this too).
exec 9>"$CACHE/docker.lock"
flock -w 900 9 || die "could not lock $CACHE/docker.lock within 900s (held by: $(fuser "$CACHE/docker.lock" 2>/dev/null))"

T_ALL=$(now)

# PID $1 is a dockerd and not a zombie (this machine's PID 1 reaps orphans late; pgrep lists zombies too).
live_dockerd() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = dockerd ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# `docker.sh stop`: stop the dockerd found through its pid file (the tests use it to simulate an outage).
if [ "${1:-}" = stop ]; then
  PIDFILE=/var/run/docker.pid
  PID=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -z "$PID" ] || ! live_dockerd "$PID"; then
    log "no dockerd running (pid file: ${PID:-none})"
    echo "docker-bed: stopped" >&2
    exit 0
  fi
  log "stopping dockerd (pid $PID)"
  kill -TERM "$PID"
  DEADLINE=$((SECONDS + 30))
  while live_dockerd "$PID" && [ "$SECONDS" -lt "$DEADLINE" ]; do sleep 0.1; done
  if live_dockerd "$PID"; then
    log "dockerd ignored SIGTERM for 30s: SIGKILL"
    kill -KILL "$PID" 2>/dev/null || true
    sleep 0.5
  fi
  log "dockerd stopped ($(took "$T_ALL"))"
  echo "docker-bed: stopped" >&2
  exit 0
fi
[ -z "${1:-}" ] || [ "$1" = up ] || die "unknown argument '$1' (usage: docker.sh [up|stop])"

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
PLUGIN_DIR="${HOME:-/root}/.docker/cli-plugins"
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
dockerd_pids() {
  local p
  for p in $(pgrep -x dockerd || true); do live_dockerd "$p" && echo "$p"; done
  return 0
}
if engine_ok; then
  log "dockerd answering ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
else
  LOGFILE="$CACHE/dockerd.log"
  if [ -n "$(dockerd_pids)" ]; then
    log "a dockerd is running (pid $(dockerd_pids | xargs)) but does not answer yet: waiting for it"
  else
    # A pid file left by a killed dockerd whose PID now belongs to another process blocks the start.
    OLD=$(cat /var/run/docker.pid 2>/dev/null || true)
    if [ -n "$OLD" ] && ! live_dockerd "$OLD"; then
      log "removing the stale /var/run/docker.pid (pid $OLD is not a running dockerd)"
      rm -f /var/run/docker.pid
    fi
    # Same for the containerd dockerd supervises: a zombie (or an orphan) there makes dockerd time out.
    CPIDFILE=/var/run/docker/containerd/containerd.pid
    OLD=$(cat "$CPIDFILE" 2>/dev/null || true)
    if [ -n "$OLD" ]; then
      if [ "$(cat "/proc/$OLD/comm" 2>/dev/null)" = containerd ] && ! grep -q '^State:.*Z' "/proc/$OLD/status" 2>/dev/null; then
        log "stopping the orphaned containerd (pid $OLD) of an earlier dockerd"
        kill -TERM "$OLD" 2>/dev/null || true
        for _ in $(seq 50); do grep -qs '^State:.*Z' "/proc/$OLD/status" || [ ! -d "/proc/$OLD" ] && break; sleep 0.1; done
        [ -d "/proc/$OLD" ] && ! grep -qs '^State:.*Z' "/proc/$OLD/status" && kill -KILL "$OLD" 2>/dev/null
      fi
      log "removing the stale $CPIDFILE"
      rm -f "$CPIDFILE"
    fi
    log "starting dockerd --iptables=false --storage-driver=vfs --bridge=none (log: $LOGFILE)"
    echo "=== $(date -Is) docker-bed starting dockerd" >>"$LOGFILE"
    # Detached (own session, stdin from /dev/null) so it outlives this script and the test process.
    # 9>&-: the daemon must not inherit the lock's descriptor, or it would hold the lock forever.
    setsid -f dockerd --iptables=false --storage-driver=vfs --bridge=none </dev/null >>"$LOGFILE" 2>&1 9>&-
  fi
  DEADLINE=$((SECONDS + TIMEOUT))
  until engine_ok; do
    if [ "$SECONDS" -ge "$DEADLINE" ]; then
      echo "---- last lines of $LOGFILE ----" >&2
      tail -n 30 "$LOGFILE" >&2 || true
      die "dockerd did not answer \`docker info\` within ${TIMEOUT}s"
    fi
    if [ -z "$(dockerd_pids)" ]; then
      echo "---- last lines of $LOGFILE ----" >&2
      tail -n 30 "$LOGFILE" >&2 || true
      die "dockerd exited during start-up"
    fi
    sleep 0.5
  done
  log "dockerd up ($(took "$T"))"
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
