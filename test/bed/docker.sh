#!/usr/bin/env bash
# Test bed: a real Docker engine + Compose v2 + a tiny busybox image, set up idempotently.
#
#   test/bed/docker.sh            # make sure everything is there; last line on stderr: "docker-bed: ready"
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
mkdir -p "$CACHE"

# One setup at a time (parallel test processes call this too).
exec 9>"$CACHE/docker.lock"
flock -w 900 9 || die "could not lock $CACHE/docker.lock within 900s"

T_ALL=$(now)

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
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
      -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache")
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
if engine_ok; then
  log "dockerd answering ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
else
  LOGFILE="$CACHE/dockerd.log"
  if pgrep -x dockerd >/dev/null 2>&1; then
    log "a dockerd is running (pid $(pgrep -x dockerd | tr '\n' ' ')) but does not answer yet: waiting for it"
  else
    log "starting dockerd --iptables=false --storage-driver=vfs --bridge=none (log: $LOGFILE)"
    echo "=== $(date -Is) docker-bed starting dockerd" >>"$LOGFILE"
    # Detached (own session, stdin from /dev/null) so it outlives this script and the test process.
    setsid -f dockerd --iptables=false --storage-driver=vfs --bridge=none </dev/null >>"$LOGFILE" 2>&1
  fi
  DEADLINE=$((SECONDS + TIMEOUT))
  until engine_ok; do
    if [ "$SECONDS" -ge "$DEADLINE" ]; then
      echo "---- last lines of $LOGFILE ----" >&2
      tail -n 30 "$LOGFILE" >&2 || true
      die "dockerd did not answer \`docker info\` within ${TIMEOUT}s"
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
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
    (cd "$BB_CACHE" && apt-get download busybox-static >&2) || {
      apt-get update -qq >&2 || true
      (cd "$BB_CACHE" && apt-get download busybox-static >&2) || die "apt-get download busybox-static failed"
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
