#!/usr/bin/env bash
# Session 8, call 10: UCX at 1-16 MiB by stripe threshold and stripe size (messages below the
# threshold stay on the executor's one worker), 2 x 1 and 2 x 2, three interleaved passes.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u "+%F %T") UTC; load $(cut -d" " -f1-3 /proc/loadavg)"
R=$OUT
export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4" PASSES=3 ITERS=30 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket ucx:TUTTI_NET=ucx min1m:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_MIN_BYTES=1M min1m-s512k:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_MIN_BYTES=1M,TUTTI_UCX_STRIPE_BYTES=512K min2m-s512k:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_MIN_BYTES=2M,TUTTI_UCX_STRIPE_BYTES=512K" \
  timeout 560 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-8
