#!/usr/bin/env bash
# Session 13, call 3: why all_reduce_perf -g 5 on GPU nodes of 2, 2, 1 (device memory) stalls.
set -uo pipefail
L=/tmp/o; mkdir -p $L; trap 'tar czf $OUT/raw.tgz -C $L .' EXIT
export NCCL_NVLS_ENABLE=0 TUTTI_ALLOW_SHARED_GPU=1 TUTTI_TIMEOUT_MS=8000
ninja -C build-gpu all_reduce_perf > $L/build.log 2>&1; echo "build rc $?"
B=build-gpu/perf/all_reduce_perf
run() { local tag=$1 g=$2; shift 2; local envs=() extra=(); t0=$SECONDS
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done; [ $# -gt 0 ] && shift; extra=("$@")
  env "${envs[@]}" timeout 40 $B -g "$g" --mem device -b 8 -e 8 -w 1 -n 2 -c 1 "${extra[@]}" > $L/$tag.txt 2>&1
  echo "$tag rc $? ($((SECONDS-t0)) s): $(awk '$1 ~ /^[0-9]+$/ {printf "%s:%s/%s(%s) ", $1, $6, $10, $9+$13}' $L/$tag.txt) $(grep -m1 -iE 'error|fail|timed out' $L/$tag.txt | cut -c1-200)"; }
run np2c1 1 TUTTI_RANKS_PER_NODE=1 TUTTI_ALGO=ring CUDA_DEVICE_MAX_CONNECTIONS=1 -- --np 2
run np2c8 1 TUTTI_RANKS_PER_NODE=1 TUTTI_ALGO=ring -- --np 2
run np2c1big 1 TUTTI_RANKS_PER_NODE=1 CUDA_DEVICE_MAX_CONNECTIONS=1 -- --np 2 -e 64M -f 64
