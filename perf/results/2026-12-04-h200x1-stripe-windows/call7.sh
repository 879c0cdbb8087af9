#!/usr/bin/env bash
# Session 8, call 7: 8 B latency on 2 x 1 against each path's floor (8-byte exchanges over
# plain TCP and over UCX), three interleaved passes.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/lat PASSES=3 timeout 400 perf/netns_latency.sh > $R/latency-table.txt 2>&1
echo "netns_latency rc $?"; cat $R/latency-table.txt | tail -8
