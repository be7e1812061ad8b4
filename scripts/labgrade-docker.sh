#!/bin/sh
# labgrade from its image, grading the folder you are in. Copy this file anywhere: it needs only
# Docker (the engine the tutorial installed) and a labgrade image.
#   sh labgrade-docker.sh check --quick      # = labgrade check --quick, reports in ./labgrade-report
#   sh labgrade-docker.sh doctor
# LABGRADE_IMAGE picks the image (default labgrade:local, built by scripts/image/build.sh).
#
# Why each flag (each one was tested by removing it: test/integration/image.test.ts):
#   -v <socket>:/var/run/docker.sock   labgrade drives the host's engine (builds, limits, runs)
#   --pid host                         the engine's container pids are then visible in /proc, so
#                                      cgroups are read directly at 10 Hz, not through the engine
#   --cgroupns host                    /proc/<pid>/cgroup paths are then the host's (v2 defaults to
#                                      a private cgroup namespace, which prints "/.." paths)
#   -v /sys/fs/cgroup:/sys/fs/cgroup:ro  the host's whole cgroup tree (without it the container
#                                      sees only its own cgroup)
#   --user <you> --group-add <socket's group>  reports are yours, not root's; no root in the
#                                      container (Docker 20.10 mounts the cgroup sub-mounts rw)
#   -v "$PWD":/work:ro                 your submission, read-only; only labgrade-report/ is writable
#   --network none --read-only --tmpfs /tmp:size=256m --cap-drop ALL --security-opt no-new-privileges
#                                      labgrade itself needs no network (the engine pulls), no
#                                      writable image and no capabilities
set -eu
image=${LABGRADE_IMAGE:-labgrade:local}
sock=/var/run/docker.sock
case "${DOCKER_HOST:-}" in
  unix://*) sock=${DOCKER_HOST#unix://} ;;
  "") ;;
  *) echo "labgrade-docker.sh: DOCKER_HOST=$DOCKER_HOST is not a local socket; run labgrade itself (npm) against a remote engine" >&2; exit 3 ;;
esac
[ -S "$sock" ] || { echo "labgrade-docker.sh: no Docker socket at $sock: is Docker installed and running?" >&2; exit 3; }
here=$(pwd)
mkdir -p "$here/labgrade-report"
tty=
[ -t 0 ] && [ -t 1 ] && tty=-t
# shellcheck disable=SC2086 # $tty is empty or one flag
exec docker run --rm --init $tty \
  --user "$(id -u):$(id -g)" --group-add "$(stat -c %g "$sock")" \
  --pid host --cgroupns host \
  -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
  -v "$sock":/var/run/docker.sock \
  -v "$here":/work:ro -v "$here/labgrade-report":/work/labgrade-report \
  --network none --read-only --tmpfs /tmp:size=256m --cap-drop ALL --security-opt no-new-privileges \
  -e HOME=/tmp ${LABGRADE_RUN_ID:+-e LABGRADE_RUN_ID} ${LABGRADE_ENGINE_WAIT:+-e LABGRADE_ENGINE_WAIT} \
  "$image" "$@"
