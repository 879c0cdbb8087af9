#!/usr/bin/env bash
# Session 7, call 4: threads per peer on 2 x 2 (4 ranks on 16 CPUs): the auto rule gives each
# rank 4 stream threads / stripe workers per remote peer; 2 and 3 side by side, two passes.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="2 4" PASSES=2 LAYOUTS="2,2" MIN=4M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket sock2:TUTTI_NET=socket,TUTTI_SOCKET_STREAMS=2 sock3:TUTTI_NET=socket,TUTTI_SOCKET_STREAMS=3 ucx:TUTTI_NET=ucx ucx2:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=2 ucx3:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=3" \
  timeout 420 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-9
