#!/usr/bin/env bash
# cpu-monitor.sh <container> [interval-seconds] [samples]
# Prints the container's CPU utilisation, one number per line, in percent of one CPU
# (100 = one full core, as `docker stats` shows it), computed from the cgroup's CPU usage counter:
#   cgroup v2: usage_usec in cpu.stat   (/sys/fs/cgroup/system.slice/docker-<id>.scope/ with systemd)
#   cgroup v1: cpuacct.usage in ns      (/sys/fs/cgroup/cpuacct/docker/<id>/ with cgroupfs)
set -euo pipefail

container=${1:?usage: cpu-monitor.sh <container> [interval-seconds] [samples]}
interval=${2:-1}
samples=${3:-0}   # 0 = until Ctrl-C

id=$(docker inspect --format '{{.Id}}' "$container")

find_counter() {
  local root=/sys/fs/cgroup d
  if [ -f "$root/cgroup.controllers" ]; then           # cgroup v2 (unified)
    for d in "$root/system.slice/docker-$id.scope" "$root/docker/$id"; do
      [ -f "$d/cpu.stat" ] && { echo "v2 $d/cpu.stat"; return; }
    done
  else                                                 # cgroup v1 / hybrid
    for d in "$root/cpuacct/docker/$id" "$root/cpu,cpuacct/docker/$id" \
             "$root/cpuacct/system.slice/docker-$id.scope" "$root/cpu,cpuacct/system.slice/docker-$id.scope"; do
      [ -f "$d/cpuacct.usage" ] && { echo "v1 $d/cpuacct.usage"; return; }
    done
  fi
  # Any layout: the cgroup of the container's first process.
  local pid rel
  pid=$(docker inspect --format '{{.State.Pid}}' "$container")
  rel=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
  [ -n "$rel" ] && [ -f "$root$rel/cpu.stat" ] && { echo "v2 $root$rel/cpu.stat"; return; }
  echo "cpu-monitor.sh: cannot find the cgroup of container $container ($id)" >&2
  exit 1
}

read -r version counter < <(find_counter)

usage_usec() {
  if [ "$version" = v2 ]; then
    awk '$1 == "usage_usec" { print $2 }' "$counter"
  else
    awk '{ printf "%d\n", $1 / 1000 }' "$counter"
  fi
}

now_usec() { echo $(( $(date +%s%N) / 1000 )); }

prev_u=$(usage_usec); prev_t=$(now_usec)
n=0
while [ "$samples" -eq 0 ] || [ "$n" -lt "$samples" ]; do
  sleep "$interval"
  u=$(usage_usec); t=$(now_usec)
  awk -v du=$((u - prev_u)) -v dt=$((t - prev_t)) 'BEGIN { printf "%.1f\n", (dt > 0 ? 100 * du / dt : 0) }'
  prev_u=$u; prev_t=$t
  n=$((n + 1))
done
