#!/bin/sh
# The AWS Batch entry point of labgrade's image (scripts/aws-batch/Dockerfile). Batch can pass a
# command but no shell, and its array index is 0-based while --shard is 1-based; and Batch fails
# a job that depends on a failed job, so a shard that finished with students to review (exit 4)
# must end as a success for the merge job to run at all (merge itself then exits 4).
#   entrypoint.sh shard CLASS OUT N [labgrade batch options]   one array child: shard index+1 of N
#   entrypoint.sh merge OUT N                                    OUT/shard-1 … OUT/shard-N → OUT/merged
# LABGRADE names the labgrade command (default: labgrade, the image's).
set -u
labgrade=${LABGRADE:-labgrade}
what=${1:-}
[ $# -gt 0 ] && shift
case "$what" in
  shard)
    [ $# -ge 3 ] || { echo "usage: $0 shard CLASS OUT N [labgrade batch options]" >&2; exit 2; }
    class=$1 out=$2 n=$3
    shift 3
    i=$((${AWS_BATCH_JOB_ARRAY_INDEX:-0} + 1))
    echo "labgrade shard $i/$n (job ${AWS_BATCH_JOB_ID:-?}, attempt ${AWS_BATCH_JOB_ATTEMPT:-1})"
    rc=0
    # Engine access: cgroup files are read by labgrade's reader container on the host (a Batch
    # container cannot share the host's pid and cgroup namespaces that direct reading needs).
    "$labgrade" batch "$class" --out "$out/shard-$i" --shard "$i/$n" --resume --cgroup-access engine "$@" || rc=$?
    if [ "$rc" -eq 4 ]; then
      echo "shard $i/$n finished; some students need review (needs-review.csv): exit 0 so that the merge runs"
      exit 0
    fi
    exit "$rc"
    ;;
  merge)
    [ $# -eq 2 ] || { echo "usage: $0 merge OUT N" >&2; exit 2; }
    out=$1 n=$2
    set --
    i=1
    while [ "$i" -le "$n" ]; do
      set -- "$@" "$out/shard-$i"
      i=$((i + 1))
    done
    exec "$labgrade" merge "$@" --out "$out/merged"
    ;;
  *)
    echo "usage: $0 shard CLASS OUT N [options] | merge OUT N" >&2
    exit 2
    ;;
esac
