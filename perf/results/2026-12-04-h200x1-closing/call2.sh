#!/usr/bin/env bash
# Session 7, call 2: the closing table of issue 11. Defaults (sockets auto, UCX auto) and one
# stream, 2 x 1 and 2 x 2, against the hot ceiling and the message floor in the same run, two
# passes; then OpenMPI over the same namespaces.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null); $(mpirun --version 2>/dev/null | head -1); ucx $(ucx_info -v 2>/dev/null | grep -o 'version=[0-9.]*' | head -1)"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="1 4" CEILING_UCX_LANES="4" COLD_MIB=64 PASSES=2 \
  LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket s1:TUTTI_NET=socket,TUTTI_SOCKET_STREAMS=1 ucx:TUTTI_NET=ucx" \
  timeout 300 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//'
OUT=$R/cmp SKIP_BUILD=1 SOCKET_STREAMS="auto 1" timeout 240 perf/netns_compare.sh > $R/compare-table.txt 2>&1
echo "netns_compare rc $?"; grep -v "^| ---" $R/compare-table.txt | tail -14
echo "== membw copy GB/s, 16 threads: $(.gl/membw 16 2)"
