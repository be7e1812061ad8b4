#!/usr/bin/env bash
# Grade a class on a Slurm cluster (AWS ParallelCluster, a university cluster, or the one-node
# cluster of scripts/provision-slurm.sh): one array task per shard, each on a whole node, and a
# merge job after them. Run it on the login node, from a folder every compute node sees.
#
#   bash scripts/slurm/grade-class.sh CLASS... --out DIR --shards N [--wait]
#        [--partition P] [--time T] [any `labgrade batch` option: --quick, --lab, --jobs, --assignment-name …]
#
# What it writes (DIR must be on storage shared by the nodes):
#   DIR/slurm/shard.sbatch, merge.sbatch   the two job scripts, kept for a look or a re-submit
#   DIR/slurm/shard-<i>.log, merge.log     their output (a requeued task appends to its log)
#   DIR/shard-<i>/                         each shard's batch output, with its journal
#   DIR/merged/                            gradebook.csv, summary.html, students/ — the result
#
# Array task i runs `labgrade batch CLASS... --out DIR/shard-i --shard i/N --resume`:
#   --exclusive   a whole node per shard: measured checks must not share a machine;
#   --requeue     a task whose node fails goes back to the queue; --resume then grades only who
#                 is not in its journal yet (the student being graded when the node died, again);
#   exit 3        (no engine, the engine did not come back, a full disk) requeues the task itself,
#                 at most LABGRADE_SLURM_REQUEUES times (default 2): another node may be fine.
# Every other exit code is a result and stays: 0 all graded, 4 some students need review, 1 a
# harness error, 2 usage, 130 interrupted (scancel). The merge job runs once every task has ended
# (afterany) and checks completeness itself: it exits 1 naming a shard that did not finish, 4 when
# students need review, 0 when every student has a grade. Running this command again with the
# same arguments continues: finished shards are not graded again.
#
# labgrade on the nodes: `labgrade` on PATH (npm install -g), else this checkout run with its own
# tsx (node_modules installed); LABGRADE="…" overrides. Both must be visible on every node.
set -euo pipefail

say() { printf 'grade-class: %s\n' "$*" >&2; }
usage() {
  say "usage: $0 CLASS... --out DIR --shards N [--wait] [--partition P] [--time T] [labgrade batch options]"
  exit 2
}

here=$(cd "$(dirname "$0")/../.." && pwd)
out='' shards='' wait=no partition='' time_limit=''
inputs=() passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --shards) shards=${2:?--shards needs a number}; shift 2 ;;
    --wait) wait=yes; shift ;;
    --partition) partition=${2:?}; shift 2 ;;
    --time) time_limit=${2:?}; shift 2 ;;
    --shard | --resume | --regrade) say "$1 is set per array task by this script; leave it out"; exit 2 ;;
    --lab | --jobs | --retries | --assignment-name | --assignment-id | --max-submission-size | --cgroup-access)
      passthrough+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --*) passthrough+=("$1"); shift ;;
    *) inputs+=("$1"); shift ;;
  esac
done
[ -n "$out" ] && [ -n "$shards" ] && [ ${#inputs[@]} -gt 0 ] || usage
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { say "--shards expects a whole number ≥ 1, got \"$shards\""; exit 2; }
command -v sbatch >/dev/null 2>&1 || { say "no sbatch here: run this on the cluster's login node (or: bash scripts/provision-slurm.sh)"; exit 3; }

# Absolute paths: the jobs start in other folders, on other nodes.
abs() { (cd "$(dirname "$1")" && printf '%s/%s' "$(pwd)" "$(basename "$1")"); }
for i in "${!inputs[@]}"; do
  [ -e "${inputs[$i]}" ] || { say "no such input: ${inputs[$i]}"; exit 2; }
  inputs[i]=$(abs "${inputs[$i]}")
done
mkdir -p "$out/slurm"
out=$(cd "$out" && pwd)

if [ -z "${LABGRADE:-}" ]; then
  if command -v labgrade >/dev/null 2>&1; then
    LABGRADE=$(command -v labgrade)
  elif [ -x "$here/node_modules/.bin/tsx" ]; then
    LABGRADE="$here/node_modules/.bin/tsx $here/cli/main.ts"
  else
    say "no labgrade: install it on every node (npm install -g labgrade-<version>.tgz), or run 'npm ci' in $here, or set LABGRADE"
    exit 3
  fi
fi

q() { printf '%q ' "$@"; }
q1() { printf '%q' "$1"; }
# No options must mean no argument: "$(q)" of nothing would write '' — an input named "".
extra=''
[ ${#passthrough[@]} -gt 0 ] && extra=$(q "${passthrough[@]}")
shard_dirs=()
for ((i = 1; i <= shards; i++)); do shard_dirs+=("$out/shard-$i"); done

cat >"$out/slurm/shard.sbatch" <<EOF
#!/bin/bash
#SBATCH --job-name=labgrade-shard
#SBATCH --output=$out/slurm/shard-%a.log
#SBATCH --open-mode=append
# Written by labgrade scripts/slurm/grade-class.sh; submitted with --array=1-$shards --exclusive --requeue.
set -u
i=\$SLURM_ARRAY_TASK_ID
echo "== \$(date -u +%FT%TZ) shard \$i/$shards on \$(hostname) (job \$SLURM_JOB_ID, restart \${SLURM_RESTART_COUNT:-0})"
rc=0
$LABGRADE batch $(q "${inputs[@]}")--out $(q1 "$out")/shard-\$i --shard \$((SLURM_ARRAY_TASK_ID))/$shards --resume $extra|| rc=\$?
echo "== \$(date -u +%FT%TZ) shard \$i/$shards: labgrade exit \$rc"
# 3: the engine or the disk of this node failed, not a student: try again (on a node that works).
if [ "\$rc" -eq 3 ] && [ "\${SLURM_RESTART_COUNT:-0}" -lt ${LABGRADE_SLURM_REQUEUES:-2} ]; then
  echo "== requeueing shard \$i: environment problem on \$(hostname)"
  scontrol requeue "\$SLURM_JOB_ID"
fi
exit \$rc
EOF

cat >"$out/slurm/merge.sbatch" <<EOF
#!/bin/bash
#SBATCH --job-name=labgrade-merge
#SBATCH --output=$out/slurm/merge.log
#SBATCH --open-mode=append
#SBATCH --ntasks=1
# Written by labgrade scripts/slurm/grade-class.sh; runs after every shard task has ended.
set -u
echo "== \$(date -u +%FT%TZ) merge on \$(hostname)"
rc=0
$LABGRADE merge $(q "${shard_dirs[@]}")--out $(q1 "$out/merged") || rc=\$?
echo "== \$(date -u +%FT%TZ) merge: labgrade exit \$rc"
exit \$rc
EOF

where=()
[ -n "$partition" ] && where+=(--partition "$partition")
[ -n "$time_limit" ] && where+=(--time "$time_limit")
array=$(sbatch --parsable "${where[@]+"${where[@]}"}" --array="1-$shards" --exclusive --requeue "$out/slurm/shard.sbatch")
array=${array%%;*}
merge_args=("${where[@]+"${where[@]}"}" --dependency="afterany:$array" --kill-on-invalid-dep=yes)
say "submitted: shards 1-$shards as array job $array (one whole node each)"
say "logs:      $out/slurm/shard-<i>.log, $out/slurm/merge.log    watch: squeue"
say "result:    $out/merged/gradebook.csv and summary.html"
if [ "$wait" = yes ]; then
  say "waiting for the merge job (it runs after the last shard ends)…"
  rc=0
  # --parsable prints the job id as soon as it is queued; --wait then returns the job's exit code.
  sbatch --wait --parsable "${merge_args[@]}" "$out/slurm/merge.sbatch" |
    while read -r id; do say "merge:     job ${id%%;*}, after array job $array"; done || rc=$?
  tail -n 6 "$out/slurm/merge.log" >&2 || true
  exit "$rc"
fi
merge=$(sbatch --parsable "${merge_args[@]}" "$out/slurm/merge.sbatch")
say "merge:     job ${merge%%;*}, after array job $array"
