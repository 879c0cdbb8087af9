#!/usr/bin/env bash
# Session 4, call 8: stripe workers' drivers spin a while after work before sleeping
# (TUTTI_UCX_DRIVER_SPIN_US 0 / 30 / 200); call 7 showed no thread saturated with 4 workers.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ab FLOOR_KIB=0 STREAMS_CEILING="1 4" PASSES=2 LAYOUTS="1,1 2,2" MIN=4M MAX=64M \
CONFIGS="spin0:TUTTI_NET=ucx spin30:TUTTI_NET=ucx,TUTTI_UCX_DRIVER_SPIN_US=30 spin200:TUTTI_NET=ucx,TUTTI_UCX_DRIVER_SPIN_US=200" \
  timeout 230 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns rc $?"; cat $R/table.txt
