#!/usr/bin/env bash
# Session 6, call 10: sockets with TUTTI_SOCKET_STREAMS unset (auto: 4 routed streams on this
# box) against one stream, 2 x 1 and 2 x 2, and 8 B latency; the INFO line of the choice.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=0 STREAMS_CEILING="1 4" PASSES=2 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
CONFIGS="auto:TUTTI_NET=socket s1:TUTTI_NET=socket,TUTTI_SOCKET_STREAMS=1" \
  timeout 200 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/table.txt | sed 's/ (TUTTI_[^)]*)//'
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpz$$; "$HOSTS" up $N 2 >/dev/null
timeout 40 scripts/netns-mpirun.sh $N 1,1 -x TUTTI_NET=socket -x TUTTI_DEBUG=INFO -- \
  build/perf/all_reduce_perf -b 8 -e 8 -n 5 -w 1 -d float -o sum --mem host 2>&1 | grep -m2 -E "socket.*to rank|streams"
echo "== 8 B latency us (oop), 200 iterations"
for pass in 1 2; do for layout in 1,1 2,2; do for cfg in "auto|auto" "s1|1"; do
  IFS='|' read -r label st <<<"$cfg"
  timeout 40 scripts/netns-mpirun.sh $N $layout -x TUTTI_NET=socket -x TUTTI_SOCKET_STREAMS=$st -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "p$pass $layout $label: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6}')"
done; done; done
"$HOSTS" down $N
