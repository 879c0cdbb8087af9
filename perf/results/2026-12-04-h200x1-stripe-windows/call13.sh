#!/usr/bin/env bash
# Session 8, call 13 (HEAD ba2fcbf, the progress change): correctness of UCX send windows on the GPU nodes (device buffers through
# the proxy's pinned staging) and on host buffers, forced everywhere with small stripes, and
# the default; -g 4 as 2 nodes x 2 with checks.
set -uo pipefail
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
export TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0
for cfg in "win-4k|TUTTI_UCX_WORKERS=3 TUTTI_UCX_STRIPE_BYTES=4k TUTTI_UCX_DIRECT_BYTES=4k TUTTI_UCX_STRIPE_DIRECT=1" "default|"; do
  label=${cfg%%|*}
  env ${cfg#*|} timeout 200 build/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes.*' > $OUT/gpunodes-$label.txt 2>&1
  echo "GpuNodes $label rc $?: $(grep -E '^\[ +(PASSED|FAILED) ' $OUT/gpunodes-$label.txt | tr '\n' ' ')"
done
for mem in device host; do for d in 0 1; do
  TUTTI_UCX_STRIPE_DIRECT=$d TUTTI_RANKS_PER_NODE=2 timeout 90 build/perf/all_reduce_perf -g 4 --mem $mem -b 16M -e 64M -f 4 -n 20 -w 3 > $OUT/g4-$mem-$d.txt 2>&1
  echo "-g 4 (2 x 2) $mem windows=$d rc $?: $(grep -E '^ +(16777216|67108864) ' $OUT/g4-$mem-$d.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done
