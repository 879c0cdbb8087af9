#!/usr/bin/env bash
# Session 8, call 4: the default (TUTTI_UCX_STRIPE_DIRECT=auto: windows on where the host has
# other ranks) against windows off and on everywhere, sockets and the TCP floor in the same run.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u "+%F %T") UTC; load $(cut -d" " -f1-3 /proc/loadavg)"
R=$OUT
export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4" PASSES=4 ITERS=30 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket ucx:TUTTI_NET=ucx ucx-ring:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=0 ucx-win:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=1" \
  timeout 560 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-11
