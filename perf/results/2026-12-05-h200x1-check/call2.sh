#!/usr/bin/env bash
# Session 9, call 2: host buffers across two namespace hosts on HEAD's library, the TCP ceiling
# and message floor measured again in each of two passes (CEILING_EACH_PASS=1); then OpenMPI.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg); $(mpirun --version 2>&1 | head -1)"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="1 4" CEILING_EACH_PASS=1 PASSES=2 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket s1:TUTTI_NET=socket,TUTTI_SOCKET_STREAMS=1 ucx:TUTTI_NET=ucx" \
  timeout 330 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-11
OUT=$R/cmp SKIP_BUILD=1 timeout 220 perf/netns_compare.sh > $R/compare.txt 2>&1
echo "netns_compare rc $?"; grep -v "^| ---" $R/compare.txt | tail -14
