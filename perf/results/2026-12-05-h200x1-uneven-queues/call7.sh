#!/usr/bin/env bash
# Session 13, call 4: the harness's CUDA_DEVICE_MAX_CONNECTIONS for -g N and the proxy's warning.
set -uo pipefail
L=/tmp/o; mkdir -p $L; trap 'tar czf $OUT/raw.tgz -C $L .' EXIT
export NCCL_NVLS_ENABLE=0 TUTTI_ALLOW_SHARED_GPU=1 TUTTI_TIMEOUT_MS=8000
echo "$(date -u '+%F %T') $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
cmake -S . -B build-gpu -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release > $L/configure.log 2>&1
t0=$SECONDS; ninja -C build-gpu all_reduce_perf > $L/build.log 2>&1; echo "build rc $? ($((SECONDS-t0)) s)"
B=build-gpu/perf/all_reduce_perf
for v in "default" "8"; do
  if [ "$v" = default ]; then unset CUDA_DEVICE_MAX_CONNECTIONS; else export CUDA_DEVICE_MAX_CONNECTIONS=$v; fi
  t0=$SECONDS; TUTTI_RANKS_PER_NODE=2 timeout 40 $B -g 5 --mem device -b 8 -e 1M -f 32 -w 2 -n 5 -c 1 > $L/g5-$v.txt 2>&1
  echo "g5 connections=$v rc $? ($((SECONDS-t0)) s): $(awk '$1 ~ /^[0-9]+$/ {printf "%s:%s/%s(%s) ", $1, $6, $10, $9+$13}' $L/g5-$v.txt) | $(grep -m1 -E 'WARN.*CUDA_DEVICE_MAX' $L/g5-$v.txt | cut -c1-260)"
done
