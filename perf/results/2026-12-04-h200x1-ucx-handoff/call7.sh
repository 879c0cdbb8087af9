#!/usr/bin/env bash
# Session 5, call 7 (6ca2b74): the GPU node sweep over handed-off stripe workers, both routes
# (3 workers, 4 KiB stripes) and the default; -g 4 as 2 nodes x 2 on device buffers.
set -uo pipefail
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
export TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0
for cfg in "3w-4k|TUTTI_UCX_WORKERS=3 TUTTI_UCX_STRIPE_BYTES=4k" "default|"; do
  label=${cfg%%|*}
  env ${cfg#*|} timeout 200 build/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes.*' > $OUT/gpunodes-$label.txt 2>&1
  echo "GpuNodes $label rc $?: $(grep -E '^\[ +(PASSED|FAILED) ' $OUT/gpunodes-$label.txt | tr '\n' ' ')"
done
for w in 1 auto; do
  TUTTI_UCX_WORKERS=$w TUTTI_RANKS_PER_NODE=2 timeout 60 build/all_reduce_perf -g 4 --mem device -b 16M -e 64M -f 4 -n 20 -w 3 > $OUT/g4.txt 2>&1
  echo "-g 4 (2 x 2) device workers=$w: $(grep -E '^ +(16777216|67108864) ' $OUT/g4.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done
