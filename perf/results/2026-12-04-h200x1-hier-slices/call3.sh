#!/usr/bin/env bash
# Session 7, call 3: the hierarchical AllReduce as a pipeline of slices, 2 x 2 over sockets
# and UCX: default 16 MiB slices, 8 and 4 MiB, and none (TUTTI_HIER_SLICE_BYTES=0), two passes.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4 8" PASSES=2 LAYOUTS="2,2" MIN=1M MAX=64M \
  CONFIGS="sl16:TUTTI_NET=socket sl0:TUTTI_NET=socket,TUTTI_HIER_SLICE_BYTES=0 sl8:TUTTI_NET=socket,TUTTI_HIER_SLICE_BYTES=8M sl4:TUTTI_NET=socket,TUTTI_HIER_SLICE_BYTES=4M ucx16:TUTTI_NET=ucx ucx0:TUTTI_NET=ucx,TUTTI_HIER_SLICE_BYTES=0" \
  timeout 420 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//'
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tal$$; "$HOSTS" up $N 2 >/dev/null
timeout 40 scripts/netns-mpirun.sh $N 2,2 -x TUTTI_NET=socket -x TUTTI_DEBUG=INFO -x TUTTI_DEBUG_SUBSYS=TUNE -- \
  build/perf/all_reduce_perf -b 64M -e 64M -n 2 -w 1 -d float -o sum --mem host 2>&1 | grep -i -m3 -E "hierarch|algorithm|tuner" 
"$HOSTS" down $N
