#!/usr/bin/env bash
# memory-monitor.sh <container> [interval-seconds] [samples]
# Prints the container's memory use, one number per line, in MiB (2^20 bytes), read from its cgroup:
#   cgroup v2: memory.current        (/sys/fs/cgroup/system.slice/docker-<id>.scope/ with systemd)
#   cgroup v1: memory.usage_in_bytes (/sys/fs/cgroup/memory/docker/<id>/ with cgroupfs)
set -euo pipefail

container=${1:?usage: memory-monitor.sh <container> [interval-seconds] [samples]}
interval=${2:-1}
samples=${3:-0}   # 0 = until Ctrl-C

id=$(docker inspect --format '{{.Id}}' "$container")

find_counter() {
  local root=/sys/fs/cgroup d
  if [ -f "$root/cgroup.controllers" ]; then           # cgroup v2 (unified)
    for d in "$root/system.slice/docker-$id.scope" "$root/docker/$id"; do
      [ -f "$d/memory.current" ] && { echo "$d/memory.current"; return; }
    done
  else                                                 # cgroup v1 / hybrid
    for d in "$root/memory/docker/$id" "$root/memory/system.slice/docker-$id.scope"; do
      [ -f "$d/memory.usage_in_bytes" ] && { echo "$d/memory.usage_in_bytes"; return; }
    done
  fi
  # Any layout: the cgroup of the container's first process.
  local pid rel
  pid=$(docker inspect --format '{{.State.Pid}}' "$container")
  rel=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
  [ -n "$rel" ] && [ -f "$root$rel/memory.current" ] && { echo "$root$rel/memory.current"; return; }
  echo "memory-monitor.sh: cannot find the memory cgroup of container $container ($id)" >&2
  exit 1
}

counter=$(find_counter)

n=0
while [ "$samples" -eq 0 ] || [ "$n" -lt "$samples" ]; do
  awk '{ printf "%.1f\n", $1 / 1024 }' "$counter"
  n=$((n + 1))
  if [ "$samples" -eq 0 ] || [ "$n" -lt "$samples" ]; then sleep "$interval"; fi
done
