#!/usr/bin/env bash
# Session 6, call 11: GPU "nodes" over routed sockets (bb16b0e): the GpuNodes sweep with
# TUTTI_NET=socket and 3 streams for messages from 8 KiB, and -g 2 device buffers over sockets,
# default (auto) against one stream.
set -uo pipefail
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
export TUTTI_NET=socket TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0
for st in auto 1; do
  TUTTI_SOCKET_STREAMS=$st TUTTI_RANKS_PER_NODE=1 timeout 40 build/perf/all_reduce_perf -g 2 --mem device -b 16M -e 64M -f 4 -n 20 -w 3 > $OUT/g.txt 2>&1
  echo "-g 2 device over sockets, streams=$st: $(grep -E '^ +(16777216|67108864) ' $OUT/g.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done
TUTTI_SOCKET_STREAMS=3 TUTTI_SOCKET_STRIPE_MIN_BYTES=8192 TUTTI_SOCKET_CHUNK_BYTES=16384 \
  timeout 120 build/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes.*' > $OUT/gpunodes.txt 2>&1
echo "GpuNodes over routed sockets rc $?: $(grep -E '^\[ +(PASSED|FAILED) ' $OUT/gpunodes.txt | tr '\n' ' ')"
