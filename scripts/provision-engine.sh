#!/usr/bin/env bash
# Make sure a Docker engine answers. Does nothing where one already runs (a student's EC2
# instance, a GitHub runner). Where none answers and we are root on Debian/Ubuntu, installs
# docker.io with apt and starts dockerd in the background (these machines have no systemd as
# PID 1, so `systemctl start docker` is not an option). Idempotent; safe to run twice.
set -euo pipefail

WAIT_SECONDS=${LABGRADE_ENGINE_WAIT:-60}
LOG=${LABGRADE_DOCKERD_LOG:-/var/log/labgrade-dockerd.log}

say() { printf 'provision-engine: %s\n' "$*" >&2; }

engine_answers() {
  # `docker version` talks to the daemon (DOCKER_HOST honoured); `docker --version` would not.
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

if command -v docker >/dev/null 2>&1 && engine_answers; then
  say "engine already running: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}')"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" = "$DOCKER_HOST" ]; then
  say "DOCKER_HOST=$DOCKER_HOST does not answer; it is a remote engine, so nothing is installed here."
  say "Start that engine (or unset DOCKER_HOST to use a local one) and run this again."
  exit 3
fi

if [ "$(id -u)" -ne 0 ]; then
  say "Docker engine not reachable at unix:///var/run/docker.sock and we are not root."
  say "Start it with 'sudo systemctl start docker' (install: 'sudo apt-get install docker.io'), then add yourself to the docker group: 'sudo usermod -aG docker \$USER' and log in again."
  exit 3
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no dockerd and no apt-get: install Docker Engine for this OS (https://docs.docker.com/engine/install/) and run this again."
    exit 3
  fi
  say "installing docker.io with apt (about a minute)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

# A stale pid file from a killed dockerd makes the next one refuse to start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    say "starting docker with systemd…"
    systemctl start docker || true
  fi
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd in the background (log: $LOG)…"
  # setsid: dockerd must outlive this script and the shell that ran it.
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
fi

for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
  if engine_answers; then
    say "engine ready after $((i / 2)) s: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}')"
    exit 0
  fi
  sleep 0.5
done

say "dockerd did not answer within ${WAIT_SECONDS} s. Last lines of $LOG:"
tail -n 20 "$LOG" >&2 || true
exit 3
