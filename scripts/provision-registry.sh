#!/usr/bin/env bash
# A real image registry on loopback for tests of the Docker Hub check's `pull` mode: Debian's
# `docker-registry` package (the CNCF distribution registry, 2.8) serving plain HTTP on
# 127.0.0.1:PORT, with its storage in a state directory. Docker treats 127.0.0.0/8 as an insecure
# registry by default (20.10 and later), so push and pull need no TLS and no daemon.json change.
#
#   scripts/provision-registry.sh up      install if missing, start (idempotent); prints
#                                         `export LABGRADE_REGISTRY_MIRROR=127.0.0.1:PORT`
#   scripts/provision-registry.sh down    stop the registry this script started; delete its storage
#   scripts/provision-registry.sh status  exit 0 when it answers, 3 when not
#
# Knobs: LABGRADE_REGISTRY_PORT (default 15000), LABGRADE_REGISTRY_DIR (state: pid file, config,
# storage, log; default /tmp/labgrade-registry). Only the export line goes to stdout.
set -euo pipefail

PORT=${LABGRADE_REGISTRY_PORT:-15000}
DIR=${LABGRADE_REGISTRY_DIR:-/tmp/labgrade-registry}
PIDFILE="$DIR/registry.pid"
BIN=/usr/bin/docker-registry

say() { printf 'provision-registry: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

answers() {
  # The distribution API's base endpoint answers 200 {} when the registry is up.
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
    head -n1 <&3 | grep -q ' 200 ') 2>/dev/null
}

# The pid of the registry we started, if it still runs (a recycled pid is never trusted).
our_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid; pid=$(tr -dc 0-9 <"$PIDFILE")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "^$BIN serve $DIR/config.yml" || return 1
  printf '%s\n' "$pid"
}

ensure_installed() {
  [ -x "$BIN" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "docker-registry is not installed and installing it needs root (apt-get install docker-registry)"
  say "installing Debian's docker-registry…"
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -y -qq -o DPkg::Lock::Timeout=600)
  if ! "${apt[@]}" install --no-install-recommends docker-registry >/dev/null 2>&1; then
    "${apt[@]}" update
    "${apt[@]}" install --no-install-recommends docker-registry >/dev/null
  fi
  # The package starts its own service on :5000 where systemd runs; ours is separate. Leave theirs.
  [ -x "$BIN" ] || die "docker-registry installed but $BIN is missing"
}

cmd_up() {
  if our_pid >/dev/null && answers; then
    say "already running on 127.0.0.1:$PORT (pid $(our_pid))"
    printf 'export LABGRADE_REGISTRY_MIRROR=127.0.0.1:%s\n' "$PORT"
    return 0
  fi
  ensure_installed
  answers && die "127.0.0.1:$PORT already answers, but not as our registry: set LABGRADE_REGISTRY_PORT"
  mkdir -p "$DIR/storage"
  cat >"$DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
EOF
  # setsid: its own session, so a test runner's process group ending does not take it down mid-run.
  setsid "$BIN" serve "$DIR/config.yml" >"$DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local i
  for i in $(seq 1 100); do
    answers && break
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { tail -n 20 "$DIR/registry.log" >&2; die "the registry exited at start"; }
    sleep 0.1
  done
  answers || { tail -n 20 "$DIR/registry.log" >&2; die "the registry did not answer on 127.0.0.1:$PORT within 10 s"; }
  say "registry $("$BIN" --version 2>/dev/null | awk '{print $NF}') on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), storage $DIR/storage)"
  printf 'export LABGRADE_REGISTRY_MIRROR=127.0.0.1:%s\n' "$PORT"
}

cmd_down() {
  local pid i
  if pid=$(our_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    say "stopped the registry (pid $pid)"
  else
    say "no registry of ours running"
  fi
  rm -rf "$DIR"
}

cmd_status() {
  if our_pid >/dev/null && answers; then
    echo "registry: running on 127.0.0.1:$PORT (pid $(our_pid))"
    return 0
  fi
  echo "registry: not running"
  return 3
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
