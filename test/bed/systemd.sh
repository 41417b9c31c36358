#!/usr/bin/env bash
# Test bed: a real, booted systemd (Debian bookworm minbase) in a systemd-nspawn container.
#
#   test/bed/systemd.sh prepare            # install systemd-container + debootstrap, build the cached root
#   test/bed/systemd.sh boot NAME          # fresh copy of the root, boot it, wait for systemd; stdout: PID 1
#   test/bed/systemd.sh exec PID|NAME [VAR=value...] CMD [ARG...]
#                                          # run CMD inside (nsenter -a), clean environment, exit code passed on
#   test/bed/systemd.sh root NAME          # stdout: the container's root folder on the host (write files here)
#   test/bed/systemd.sh pid NAME           # stdout: the container's PID 1
#   test/bed/systemd.sh stop NAME          # clean shutdown (SIGTERM to nspawn = SIGRTMIN+3 to systemd), remove
#   test/bed/systemd.sh clean              # stop every container this script booted
#
# Cache: ${OAUTH_SYNC_TESTBED_CACHE:-$HOME/.cache/oauth-sync-testbed}
#   systemd-root/        the debootstrapped root (built in systemd-root.tmp.* and renamed when complete)
#   systemd-machines/NAME/{root,upper,work,console.log,nspawn.pid,pid,mode}
# Environment: SYSTEMD_BED_BOOT_TIMEOUT (s, default 120), SYSTEMD_BED_STOP_TIMEOUT (s, default 30),
#   SYSTEMD_BED_COPY=1 (copy the root with cp -a instead of an overlay mount),
#   SYSTEMD_BED_OWNER_PID=PID (boot: a detached watcher stops the container once process PID is gone),
#   SYSTEMD_BED_FLAVOUR=containers (prepare/boot: Debian trixie with rootless Podman 5 (Quadlet), Docker and
#   Compose v2, cached in systemd-root-containers/; booted with a cgroup v2 tree of its own, keyctl and bpf allowed,
#   which runc and crun need; see "containers flavour" below).
# Progress and timings go to stderr; only the requested value goes to stdout.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
CACHE="${OAUTH_SYNC_TESTBED_CACHE:-${HOME:-/root}/.cache/oauth-sync-testbed}"
BASE="$CACHE/systemd-root"
MACHINES="$CACHE/systemd-machines"
SUITE=bookworm
INCLUDE=systemd,systemd-sysv,dbus,libpam-systemd,dbus-user-session
FLAVOUR="${SYSTEMD_BED_FLAVOUR:-}"
case "$FLAVOUR" in
  "") ;;
  containers)
    # Debian 13: podman 5.4 with its Quadlet generator, docker.io 26 with the compose plugin 2.26.
    BASE="$CACHE/systemd-root-containers"
    SUITE=trixie
    INCLUDE="$INCLUDE,podman,uidmap,slirp4netns,passt,docker.io,docker-cli,docker-compose,tini,busybox-static"
    ;;
  *) echo "systemd-bed: FAILED: unknown SYSTEMD_BED_FLAVOUR '$FLAVOUR' (known: containers)" >&2; exit 2 ;;
esac
# Bump when the root's recipe changes: a root with another stamp is rebuilt.
STAMP="oauth-sync-testbed systemd-root v2 $SUITE minbase $INCLUDE${FLAVOUR:+ $FLAVOUR-v1}"
BOOT_TIMEOUT="${SYSTEMD_BED_BOOT_TIMEOUT:-120}"
STOP_TIMEOUT="${SYSTEMD_BED_STOP_TIMEOUT:-30}"
INSIDE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive

log() { echo "systemd-bed: $*" >&2; }
die() { echo "systemd-bed: FAILED: $*" >&2; exit 1; }
now() { echo "${EPOCHREALTIME/,/.}"; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

check_name() {
  [[ "${1:-}" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || die "bad container name '${1:-}' (letters, digits, . _ -; at most 64)"
}

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

# rm -rf that first unmounts whatever is mounted below DIR (a killed debootstrap leaves proc/sys mounted in
# its target) and never crosses into another file system.
remove_tree() {
  local dir="$1" m
  [ -e "$dir" ] || return 0
  dir=$(readlink -f "$dir")
  for m in $(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || die "could not unmount $m"
  done
  rm -rf --one-file-system "$dir"
}

# ---------------------------------------------------------------------------------------------------------
# containers flavour: what an nspawn container on this kind of host needs for Docker and rootless Podman. The host's
# cgroup v1 controllers are read-only in there, so the container gets a cgroup v2 tree without controllers (no pids
# limit can be set: podman's default limit is turned off); no overlay on the overlay root and no /dev/fuse: the vfs
# storage driver; no network but loopback: slirp4netns (pasta wants a route to copy); /dev/net/tun usable by users.
containers_root() {
  local root="$1"
  mkdir -p "$root/etc/containers" "$root/etc/docker" "$root/etc/tmpfiles.d"
  printf '[storage]\ndriver = "vfs"\n' >"$root/etc/containers/storage.conf"
  printf '[containers]\npids_limit = 0\n\n[network]\ndefault_rootless_network_cmd = "slirp4netns"\n' >"$root/etc/containers/containers.conf"
  printf '{ "storage-driver": "vfs" }\n' >"$root/etc/docker/daemon.json"
  echo 'z /dev/net/tun 0666 - - -' >"$root/etc/tmpfiles.d/oauth-sync-bed-tun.conf"
  # No user gets a subordinate range by default: each test writes the ranges it means.
  sed -i -e 's/^#\?SUB_UID_COUNT.*/SUB_UID_COUNT 0/' -e 's/^#\?SUB_GID_COUNT.*/SUB_GID_COUNT 0/' "$root/etc/login.defs"
  grep -q '^SUB_UID_COUNT 0' "$root/etc/login.defs" || echo 'SUB_UID_COUNT 0' >>"$root/etc/login.defs"
  grep -q '^SUB_GID_COUNT 0' "$root/etc/login.defs" || echo 'SUB_GID_COUNT 0' >>"$root/etc/login.defs"
}

# The cgroup v2 directory a containers-flavour machine runs in (its own, so two machines never share `payload`).
machine_cgroup() { echo "/sys/fs/cgroup/unified/oauth-sync-bed-$1"; }

# Removes the machine's cgroup tree (deepest first). Anything still in it (a container whose nspawn died early) is
# killed first: the tree is this machine's alone.
remove_cgroup() {
  local cg="$(machine_cgroup "$1")" i
  if [ -e "$cg/cgroup.kill" ] && grep -q '^populated 1' "$cg/cgroup.events" 2>/dev/null; then
    log "$1: processes left in $cg: killed"
    echo 1 >"$cg/cgroup.kill"
    for i in $(seq 50); do grep -q '^populated 0' "$cg/cgroup.events" && break; sleep 0.1; done
  fi
  for cg in "$(machine_cgroup "$1")" "/sys/fs/cgroup/systemd/oauth-sync-bed-$1"; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ -d "$cg" ] && log "$1: cgroup $cg still busy, left in place"
  done
  return 0
}

# ---------------------------------------------------------------------------------------------------------
prepare() {
  [ "$(id -u)" = 0 ] || die "must run as root (apt, debootstrap, nspawn)"
  mkdir -p "$CACHE" "$MACHINES" || die "cannot create the cache folder $CACHE"
  local t
  # Held only for the duration of prepare (fd 8 is closed again before anything is started in the background).
  exec 8>"$CACHE/systemd${FLAVOUR:+-$FLAVOUR}.lock"
  flock -w 1800 8 || die "could not lock $CACHE/systemd${FLAVOUR:+-$FLAVOUR}.lock within 1800s"

  t=$(now)
  local missing=()
  command -v systemd-nspawn >/dev/null 2>&1 || missing+=(systemd-container)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    local apt_log="$CACHE/apt.log"
    { flock -w 900 "$CACHE/apt.lock" apt-get update && flock -w 900 "$CACHE/apt.lock" apt-get install -y -o APT::Sandbox::User=root -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}"; } >>"$apt_log" 2>&1 || {
      echo "---- last lines of $apt_log ----" >&2
      tail -n 20 "$apt_log" >&2
      die "apt-get install ${missing[*]} failed"
    }
    command -v systemd-nspawn >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1 ||
      die "installed ${missing[*]} but systemd-nspawn/debootstrap are still missing"
    log "installed ${missing[*]} ($(took "$t"))"
  else
    log "systemd-nspawn, debootstrap and nsenter present"
  fi

  t=$(now)
  if [ -f "$BASE/.testbed-stamp" ] && [ "$(cat "$BASE/.testbed-stamp")" = "$STAMP" ]; then
    log "root cached at $BASE"
  else
    # Leftovers of an interrupted build are never reused.
    local leftover
    for leftover in "$BASE".tmp.* "$BASE".old.*; do
      [ -e "$leftover" ] || continue
      log "removing the unfinished $leftover"
      remove_tree "$leftover"
    done
    local tmp="$BASE.tmp.$$" mirror
    mirror=$(debian_mirror)
    log "debootstrap --variant=minbase --include=$INCLUDE $SUITE $tmp $mirror (about a minute)"
    if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
      echo "---- last lines of $CACHE/debootstrap.log ----" >&2
      tail -n 20 "$CACHE/debootstrap.log" >&2 || true
      [ -f "$tmp/debootstrap/debootstrap.log" ] && { echo "---- $tmp/debootstrap/debootstrap.log ----" >&2; tail -n 20 "$tmp/debootstrap/debootstrap.log" >&2; }
      remove_tree "$tmp"
      die "debootstrap failed"
    fi
    # Every copy gets its own machine id at boot (an empty file makes systemd use the one nspawn passes).
    : >"$tmp/etc/machine-id"
    rm -f "$tmp/var/lib/dbus/machine-id"
    # Nothing in here needs a login prompt on the console.
    ln -sf /dev/null "$tmp/etc/systemd/system/console-getty.service"
    # debootstrap copies the host's /etc/hostname and /etc/hosts: drop them so the hostname is the machine name.
    rm -f "$tmp/etc/hostname"
    printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"
    rm -rf "$tmp/var/cache/apt/archives/"*.deb
    [ "$FLAVOUR" = containers ] && containers_root "$tmp"
    echo "$STAMP" >"$tmp/.testbed-stamp"
    if [ -e "$BASE" ]; then mv "$BASE" "$BASE.old.$$"; fi
    mv "$tmp" "$BASE"
    remove_tree "$BASE.old.$$"
    log "root built at $BASE ($(du -sh "$BASE" 2>/dev/null | cut -f1), $(took "$t"))"
  fi
  exec 8>&-
}

# ---------------------------------------------------------------------------------------------------------
# PID $1 is alive (not a zombie: PID 1 of this machine reaps orphans late) and its comm is $2.
alive_as() { [ -n "${1:-}" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# Start time of PID $1 in clock ticks since boot (with the PID, identifies a process).
starttime() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'; }
is_nspawn() { alive_as "${1:-}" systemd-nspawn; }

boot() {
  local name="$1" dir t t0 mode nspawn pid state=""
  check_name "$name"
  t0=$(now)
  prepare
  dir="$MACHINES/$name"
  if [ -e "$dir" ]; then
    log "$name exists (a leftover?): stopping it first"
    stop "$name"
  fi

  t=$(now)
  mkdir -p "$dir/root" "$dir/upper" "$dir/work"
  if [ -z "${SYSTEMD_BED_COPY:-}" ] &&
    mount -t overlay "oauth-sync-$name" -o "lowerdir=$BASE,upperdir=$dir/upper,workdir=$dir/work" "$dir/root" 2>"$dir/mount.err"; then
    mode=overlay
  else
    [ -n "${SYSTEMD_BED_COPY:-}" ] || log "overlay mount failed ($(cat "$dir/mount.err")): copying instead"
    mode=copy
    cp -a "$BASE/." "$dir/root/" || die "cp -a $BASE $dir/root failed"
  fi
  rm -f "$dir/mount.err"
  echo "$mode" >"$dir/mode"
  log "$name: root ready by $mode at $dir/root ($(took "$t"))"

  t=$(now)
  # setsid: its own session, so a test runner killing its process group does not take the container down
  # half-way; the lock descriptors are closed so the container never holds them.
  echo "$FLAVOUR" >"$dir/flavour"
  if [ "$FLAVOUR" = containers ]; then
    [ -d /sys/fs/cgroup/unified ] || [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || die "no cgroup v2 hierarchy on this host"
    local cg="" extra=(--system-call-filter="add_key keyctl request_key bpf")
    if [ -d /sys/fs/cgroup/unified ]; then
      # A hybrid host: nspawn would make its payload cgroup at the unified root, shared by every such machine.
      cg=$(machine_cgroup "$name")
      mkdir -p "$cg"
    fi
    setsid env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 CG="$cg" bash -c '[ -z "$CG" ] || echo $$ >"$CG/cgroup.procs"; exec "$@"' nspawn \
      systemd-nspawn -D "$dir/root" -b --register=no --keep-unit --private-network -q -M "$name" "${extra[@]}" \
      </dev/null >"$dir/console.log" 2>&1 8>&- 9>&- &
  else
    setsid systemd-nspawn -D "$dir/root" -b --register=no --keep-unit --private-network -q -M "$name" \
      </dev/null >"$dir/console.log" 2>&1 8>&- 9>&- &
  fi
  nspawn=$!
  echo "$nspawn" >"$dir/nspawn.pid"

  # PID 1 of the container: the child of nspawn once it has exec'd systemd.
  local deadline=$((SECONDS + BOOT_TIMEOUT))
  pid=""
  # The background child is bash, then setsid (and for the containers flavour env and bash), until it has exec'd nspawn.
  # (Its name read once per look: env → bash → systemd-nspawn may change it between two reads.)
  while :; do
    case "$(cat "/proc/$nspawn/comm" 2>/dev/null)" in
      bash | setsid | env) sleep 0.02 ;;
      *) break ;;
    esac
  done
  while :; do
    if ! is_nspawn "$nspawn"; then
      echo "---- $dir/console.log ----" >&2
      tail -n 30 "$dir/console.log" >&2 || true
      die "systemd-nspawn exited during boot of $name"
    fi
    for c in $(pgrep -P "$nspawn" 2>/dev/null || true); do
      [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && pid=$c
    done
    [ -n "$pid" ] && break
    [ "$SECONDS" -lt "$deadline" ] || die "no systemd process under nspawn ($nspawn) within ${BOOT_TIMEOUT}s"
    sleep 0.1
  done
  echo "$pid" >"$dir/pid"
  starttime "$pid" >"$dir/pid.start"
  log "$name: nspawn $nspawn, PID 1 = $pid ($(took "$t"))"

  t=$(now)
  while :; do
    state=$(nsenter -t "$pid" -a -- env -i PATH="$INSIDE_PATH" systemctl is-system-running 2>/dev/null || true)
    case "$state" in
      running | degraded) break ;;
    esac
    if ! is_nspawn "$nspawn"; then
      echo "---- $dir/console.log ----" >&2
      tail -n 30 "$dir/console.log" >&2 || true
      die "systemd-nspawn exited during boot of $name (state: ${state:-none})"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      nsenter -t "$pid" -a -- env -i PATH="$INSIDE_PATH" systemctl list-jobs --no-pager >&2 || true
      die "$name did not reach running/degraded within ${BOOT_TIMEOUT}s (last state: ${state:-no answer})"
    fi
    sleep 0.2
  done
  if [ "$state" = degraded ]; then
    log "$name: degraded; failed units:"
    nsenter -t "$pid" -a -- env -i PATH="$INSIDE_PATH" systemctl --failed --no-legend --no-pager >&2 || true
  fi
  log "$name: systemd $state ($(took "$t"); boot total $(took "$t0"))"
  if [ -n "${SYSTEMD_BED_OWNER_PID:-}" ]; then
    # Stops the container once the owner (the test process) is gone, however it ended.
    setsid bash "$SELF" reap "$name" "$SYSTEMD_BED_OWNER_PID" "$nspawn" </dev/null >/dev/null 2>&1 8>&- 9>&- &
  fi
  echo "$pid"
}

reap() {
  local name="$1" owner="$2" nspawn="$3"
  # A zombie owner counts as gone (an orphaned zombie may never be reaped here).
  while [ -d "/proc/$owner" ] && ! grep -q '^State:.*Z' "/proc/$owner/status" 2>/dev/null && is_nspawn "$nspawn"; do sleep 1; done
  # Only the container this reaper was started for (a later boot under the same name is left alone).
  if is_nspawn "$nspawn" && [ "$(cat "$MACHINES/$name/nspawn.pid" 2>/dev/null)" = "$nspawn" ]; then
    stop "$name"
  fi
}

# ---------------------------------------------------------------------------------------------------------
resolve_pid() {
  if [[ "$1" =~ ^[0-9]+$ ]]; then echo "$1"; return; fi
  check_name "$1"
  [ -f "$MACHINES/$1/pid" ] || die "no container named $1 (boot it first)"
  cat "$MACHINES/$1/pid"
}

exec_in() {
  local pid name="$1"
  pid=$(resolve_pid "$1")
  shift
  [ "$#" -gt 0 ] || die "exec: no command"
  [ -d "/proc/$pid" ] || die "exec: no process $pid"
  # Never "enter" the host by mistake: the target must live in another PID namespace.
  local ns
  ns=$(readlink "/proc/$pid/ns/pid" 2>/dev/null) || die "exec: cannot read the PID namespace of process $pid"
  [ "$ns" != "$(readlink /proc/self/ns/pid)" ] || die "exec: process $pid is not in a container"
  # A containers-flavour machine's logind (linger, user managers) only knows callers inside its cgroup tree.
  if [[ ! "$name" =~ ^[0-9]+$ ]] && [ "$(cat "$MACHINES/$name/flavour" 2>/dev/null)" = containers ] && [ -d "$(machine_cgroup "$name")/payload" ]; then
    echo $$ >"$(machine_cgroup "$name")/payload/cgroup.procs"
  fi
  # A clean environment: the host's PATH and variables mean nothing in there. VAR=value words before the
  # command are passed through by env.
  exec nsenter -t "$pid" -a -- env -i PATH="$INSIDE_PATH" HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

# ---------------------------------------------------------------------------------------------------------
stop() {
  local name="$1" dir t nspawn=""
  check_name "$name"
  dir="$MACHINES/$name"
  [ -e "$dir" ] || { log "$name: not running"; return 0; }
  t=$(now)
  [ -f "$dir/nspawn.pid" ] && nspawn=$(cat "$dir/nspawn.pid")
  if is_nspawn "$nspawn"; then
    # nspawn turns SIGTERM into SIGRTMIN+3 for the container's systemd: an orderly shutdown.
    kill -TERM "$nspawn" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while is_nspawn "$nspawn" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if is_nspawn "$nspawn"; then
      log "$name: no clean shutdown within ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$nspawn" 2>/dev/null || true
      sleep 0.5
    fi
    log "$name: shut down ($(took "$t"))"
  fi
  # nspawn gone (killed, crashed) but its systemd still up? It is orphaned: SIGKILL to a PID namespace's
  # init ends every process in it.
  local pid1=""
  [ -f "$dir/pid" ] && pid1=$(cat "$dir/pid")
  if alive_as "$pid1" systemd && [ "$(starttime "$pid1")" = "$(cat "$dir/pid.start" 2>/dev/null)" ]; then
    log "$name: systemd (pid $pid1) outlived nspawn: SIGKILL"
    kill -KILL "$pid1" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while alive_as "$pid1" systemd && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  fi
  if [ "$(cat "$dir/flavour" 2>/dev/null)" = containers ]; then remove_cgroup "$name"; fi
  if mountpoint -q "$dir/root"; then
    umount "$dir/root" 2>/dev/null || umount -l "$dir/root" || die "could not unmount $dir/root"
  fi
  mountpoint -q "$dir/root" && die "$dir/root is still mounted"
  remove_tree "$dir"
  log "$name: removed ($(took "$t"))"
}

clean() {
  [ -d "$MACHINES" ] || return 0
  for d in "$MACHINES"/*/; do
    [ -d "$d" ] && stop "$(basename "$d")"
  done
  return 0
}

cmd="${1:-}"
[ "$#" -gt 0 ] && shift
case "$cmd" in
  prepare) T=$(now); prepare; log "prepare done ($(took "$T"))" ;;
  boot) [ "$#" -eq 1 ] || usage; boot "$1" ;;
  exec) [ "$#" -ge 2 ] || usage; exec_in "$@" ;;
  root) [ "$#" -eq 1 ] || usage; check_name "$1"; [ -d "$MACHINES/$1/root" ] || die "no container named $1"; echo "$MACHINES/$1/root" ;;
  pid) [ "$#" -eq 1 ] || usage; resolve_pid "$1" ;;
  stop) [ "$#" -eq 1 ] || usage; stop "$1" ;;
  clean) clean ;;
  reap) [ "$#" -eq 3 ] || usage; reap "$@" ;;
  *) usage ;;
esac
