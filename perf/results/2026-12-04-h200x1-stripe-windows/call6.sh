#!/usr/bin/env bash
# Session 8, call 6: the closing table on 02e1fb9 (send windows, auto). Sockets and UCX by
# default and UCX with windows off, 2 x 1 and 2 x 2, three interleaved passes against the
# message floor; then OpenMPI over the same namespaces (netns_compare).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null); $(mpirun --version 2>/dev/null | head -1); ucx $(ucx_info -v 2>/dev/null | grep -o 'version=[0-9.]*' | head -1)"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4" PASSES=3 ITERS=30 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket ucx:TUTTI_NET=ucx ucx-ring:TUTTI_NET=ucx,TUTTI_UCX_STRIPE_DIRECT=0" \
  timeout 300 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-11
OUT=$R/cmp SKIP_BUILD=1 SOCKET_STREAMS="auto" timeout 240 perf/netns_compare.sh > $R/compare-table.txt 2>&1
echo "netns_compare rc $?"; grep -v "^| ---" $R/compare-table.txt | tail -10
