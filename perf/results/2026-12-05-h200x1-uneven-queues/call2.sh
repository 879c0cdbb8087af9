#!/usr/bin/env bash
# Session 13, call 2: hierarchical plans on uneven GPU nodes (2, 2, 1) through the proxy.
set -uo pipefail
L=/tmp/o; mkdir -p $L; trap 'tar czf $OUT/raw.tgz -C $L .' EXIT
echo "host $(hostname) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
export NCCL_NVLS_ENABLE=0 TUTTI_ALLOW_SHARED_GPU=1
cmake -S . -B build-gpu -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release > $L/configure.log 2>&1
t0=$SECONDS; ninja -C build-gpu all_reduce_perf all_gather_perf gpu_collectives_test > $L/build.log 2>&1; echo "build rc $? ($((SECONDS-t0)) s)"
t0=$SECONDS; timeout 300 build-gpu/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes.Uneven*' > $L/uneven.log 2>&1; echo "GpuNodes uneven rc $? ($((SECONDS-t0)) s) $(grep -E '^\[  (PASSED|FAILED)' $L/uneven.log | tr '\n' ' ')"
for coll in all_reduce all_gather; do for m in device host; do for a in ring hierarchical auto; do
  TUTTI_RANKS_PER_NODE=2 TUTTI_ALGO=$a timeout 60 build-gpu/perf/${coll}_perf -g 5 --mem $m -b 8 -e 16M -f 16 -w 5 -n 20 -c 1 > $L/$coll-$m-$a.txt 2>&1
  echo "$coll $m $a: $(awk '$1 ~ /^[0-9]+$/ {printf "%s:%s/%s(%s) ", $1, $6, $10, $9+$13}' $L/$coll-$m-$a.txt)"
done; done; done
echo "end $(date -u '+%F %T')"
