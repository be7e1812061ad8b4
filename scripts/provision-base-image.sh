#!/usr/bin/env bash
# Make `FROM ubuntu:24.04` build offline. Where the tag is missing and cannot be pulled (no
# registry is reachable on our development and CI machines), build a local stand-in from
# Debian's packages: debootstrap --variant=minbase bookworm, then `docker import` under the tag.
# THE STAND-IN'S CONTENT IS DEBIAN 12, NOT UBUNTU: it only lets Dockerfiles written for the lab
# build and run stress-ng/sysbench here. The rootfs tarball is cached, so a second run takes
# seconds even after the engine lost its images.
# Also makes the labgrade image's base: LABGRADE_STANDIN_SUITE=trixie ... debian:trixie (Debian 13
# content like the real tag, but apt sources `trixie main` only and no Docker-specific trimming).
set -euo pipefail

TAG=${1:-ubuntu:24.04}
SUITE=${LABGRADE_STANDIN_SUITE:-bookworm}
MIRROR=${LABGRADE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE_DIR=${LABGRADE_CACHE:-/var/cache/labgrade}
TARBALL="$CACHE_DIR/$SUITE-minbase.tar"

say() { printf 'provision-base-image: %s\n' "$*" >&2; }

if docker image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG present: $(docker image inspect -f '{{.Id}} labgrade.standin={{index .Config.Labels "labgrade.standin"}}' "$TAG" 2>/dev/null || true)"
  exit 0
fi

if [ "${LABGRADE_TRY_PULL:-1}" = 1 ] && timeout 20 docker pull -q "$TAG" >/dev/null 2>&1; then
  say "pulled $TAG"
  exit 0
fi

mkdir -p "$CACHE_DIR"
if [ ! -s "$TARBALL" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "$TAG is missing, cannot be pulled, and building a stand-in needs root (debootstrap)."
    exit 3
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap…"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  root=$(mktemp -d /tmp/labgrade-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  say "debootstrap $SUITE into $root (about 35 s)…"
  debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 || {
    tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 3; }
  rm -f "$root.log"
  # Keep the image small and builds quick: no apt lists, no caches.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
fi

say "importing $TARBALL as $TAG (stand-in: Debian $SUITE content)…"
docker import \
  -c 'CMD ["/bin/bash"]' \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c "LABEL labgrade.standin=debian-$SUITE" \
  "$TARBALL" "$TAG" >/dev/null
say "done: $TAG is a local stand-in with Debian $SUITE content"
