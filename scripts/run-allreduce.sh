#!/usr/bin/env bash
# The main job: an all-reduce benchmark on N local ranks (GPUs when present, else CPU ranks).
set -euo pipefail
build=${1:-build}
np=${2:-4}
perf="$build/perf/all_reduce_perf"
if [ ! -x "$perf" ]; then
  echo "run-allreduce: $perf is missing (was perf disabled?)" >&2
  exit 1
fi
gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
fi
if [ "$gpus" -ge 1 ]; then
  [ "$gpus" -lt "$np" ] && np=$gpus
  echo "# all_reduce_perf on $np GPU rank(s), device memory"
  exec "$perf" --np "$np" --mem device -b 8 -e 1G -f 2 -g 1
else
  echo "# no GPU found: all_reduce_perf on $np CPU ranks, host memory"
  exec "$perf" --np "$np" --mem host -b 8 -e 64M -f 4
fi
