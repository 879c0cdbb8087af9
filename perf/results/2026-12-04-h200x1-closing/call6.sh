#!/usr/bin/env bash
# Session 7, call 6: 2 x 2 flat ring against the tuner's hierarchical plan, sockets and UCX,
# two passes. A ring of 4 keeps every rank busy at every step (its node hops and network hops
# run on different ranks at once), where the hierarchical plan runs its phases in turn.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4" PASSES=2 LAYOUTS="2,2" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket sockring:TUTTI_NET=socket,TUTTI_ALGO=allreduce:ring ucx:TUTTI_NET=ucx ucxring:TUTTI_NET=ucx,TUTTI_ALGO=allreduce:ring" \
  timeout 420 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-10
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tr$$; "$HOSTS" up $N 2 >/dev/null
timeout 40 scripts/netns-mpirun.sh $N 2,2 -x TUTTI_NET=socket -x TUTTI_ALGO=allreduce:ring -x TUTTI_DEBUG=INFO -- \
  build/perf/all_reduce_perf -b 64M -e 64M -n 2 -w 1 -d float -o sum --mem host 2>&1 | grep -m2 -E "ring order|rings|channel"
"$HOSTS" down $N
