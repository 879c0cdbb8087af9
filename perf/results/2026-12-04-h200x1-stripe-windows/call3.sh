#!/usr/bin/env bash
# Session 8, call 3: 2 x 2 over UCX with send windows, by stripe-worker count and stripe size.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u "+%F %T") UTC; load $(cut -d" " -f1-3 /proc/loadavg)"
R=$OUT
export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4" PASSES=4 ITERS=30 LAYOUTS="2,2" MIN=16M MAX=64M \
  CONFIGS="ucx-ring:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=0 ucx-win:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=1 win-w2:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=1,TUTTI_UCX_WORKERS=2 win-w3:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=1,TUTTI_UCX_WORKERS=3 win-s2m:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=1,TUTTI_UCX_STRIPE_BYTES=2M win-r8:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=1,TUTTI_REDUCE_THREADS=8" \
  timeout 560 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-11
