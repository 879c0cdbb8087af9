#!/usr/bin/env bash
# Session 4, call 10: UCX TCP socket buffers (UCX_TCP_SNDBUF/RCVBUF 4M) with 4 stripe workers.
# (TUTTI_UCX_STAGING_BYTES 16M) and 8 workers against the default, 2 hosts x 1.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ab FLOOR_KIB=0 STREAMS_CEILING="1 4" PASSES=2 LAYOUTS="1,1" MIN=16M MAX=64M \
CONFIGS="def:TUTTI_NET=ucx buf4m:TUTTI_NET=ucx,UCX_TCP_SNDBUF=4M,UCX_TCP_RCVBUF=4M" \
  timeout 150 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns rc $?"; cat $R/table.txt
