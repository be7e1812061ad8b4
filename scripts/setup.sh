#!/usr/bin/env bash
# Everything labgrade needs before it can grade or be tested, on a fresh machine or a student's
# instance: a Docker engine (started if missing, as root), the lab's base image (a Debian-content
# stand-in for ubuntu:24.04 where no registry is reachable), the labgrade image's base
# (debian:trixie, likewise) and the npm dependencies.
# Idempotent: a second run takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/provision-engine.sh
bash scripts/provision-base-image.sh ubuntu:24.04
# The labgrade image's base (scripts/image/Dockerfile): a Debian trixie stand-in where no registry answers.
LABGRADE_STANDIN_SUITE=trixie bash scripts/provision-base-image.sh debian:trixie

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
