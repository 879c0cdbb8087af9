#!/usr/bin/env bash
# Session 6, call 8: the final table on bdf10ad's code (library as 1db6abb): sockets, one UCX
# worker and the default against hot and cold ceilings, 2 x 1 and 2 x 2; then OpenMPI over the
# same namespaces (perf/netns_compare.sh).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader); $(mpirun --version 2>&1 | head -1)"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="1 4" CEILING_UCX_LANES="4" COLD_MIB=64 PASSES=1 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
CONFIGS="sock:TUTTI_NET=socket w1:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=1 default:TUTTI_NET=ucx" \
  timeout 240 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/table.txt | sed 's/ (TUTTI_[^)]*)//'
OUT=$R/cmp SKIP_BUILD=1 timeout 200 perf/netns_compare.sh > $R/compare.txt 2>&1
echo "netns_compare rc $?"; grep -v "^| ---" $R/compare.txt | tail -14
