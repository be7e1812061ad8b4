#!/usr/bin/env bash
# Build the labgrade image from this checkout:   bash scripts/image/build.sh [TAG]   (default labgrade:local)
# The build context is only what the Dockerfile copies — the "!" entries of
# scripts/image/Dockerfile.dockerignore — streamed as a tar, so node_modules, test fixtures and
# reports never reach the engine, whether the engine builds with BuildKit or the classic builder
# (docker 20.10's API, our CI). The base image (debian:trixie) is pulled where a registry
# answers, otherwise built locally as a labelled stand-in (scripts/provision-base-image.sh).
# Layers are cached: apt, then npm ci (until package*.json change), then the sources.
set -euo pipefail
cd "$(dirname "$0")/../.."
TAG=${1:-labgrade:local}
BASE=${LABGRADE_IMAGE_BASE:-debian:trixie}

if [ "$BASE" = debian:trixie ]; then
  LABGRADE_STANDIN_SUITE=trixie bash scripts/provision-base-image.sh debian:trixie
fi

# Where TLS to the npm registry goes through an intercepting proxy, the host trusts its CA
# (NODE_EXTRA_CA_CERTS); the build stages get the same file, the shipped image does not.
extra=$(mktemp -d)
trap 'rm -rf "$extra"' EXIT
ca=${LABGRADE_BUILD_CA:-${NODE_EXTRA_CA_CERTS:-}}
mkdir -p "$extra/scripts/image"
if [ -n "$ca" ] && [ -r "$ca" ]; then cp "$ca" "$extra/scripts/image/extra-ca.pem"; else : >"$extra/scripts/image/extra-ca.pem"; fi

mapfile -t files < <(sed -n 's/^!//p' scripts/image/Dockerfile.dockerignore | grep -v '^scripts/image/extra-ca.pem$')
tar -cf - --owner=0 --group=0 --exclude='*.tsbuildinfo' scripts/image/Dockerfile "${files[@]}" \
  -C "$extra" scripts/image/extra-ca.pem |
  DOCKER_BUILDKIT=0 docker build -f scripts/image/Dockerfile --build-arg "BASE=$BASE" -t "$TAG" - >&2
printf 'image: %s (%s)\n' "$TAG" "$(docker image inspect -f '{{.Id}}' "$TAG")" >&2
