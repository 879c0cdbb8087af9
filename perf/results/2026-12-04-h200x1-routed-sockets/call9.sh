#!/usr/bin/env bash
# Session 6, call 9: routed striped sockets (messages from 1 MiB on to the stream threads,
# shorter ones on the executor's own socket) against one stream and against striping every
# message (TUTTI_SOCKET_STRIPE_MIN_BYTES=0, the old N > 1), 2 x 1 and 2 x 2; 8 B latency.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="1 2 4" PASSES=2 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
CONFIGS="s1:TUTTI_SOCKET_STREAMS=1 s2:TUTTI_SOCKET_STREAMS=2 s4:TUTTI_SOCKET_STREAMS=4 s4-all:TUTTI_SOCKET_STREAMS=4,TUTTI_SOCKET_STRIPE_MIN_BYTES=0" \
  timeout 260 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/table.txt | sed 's/ (TUTTI_[^)]*)//; s/ | - | - | - | / | /'
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpz$$; "$HOSTS" up $N 2 >/dev/null
echo "== 8 B latency us (oop), 200 iterations"
for layout in 1,1 2,2; do for cfg in "s1|1|1048576" "s4|4|1048576" "s4-all|4|0"; do
  IFS='|' read -r label st sm <<<"$cfg"
  timeout 40 scripts/netns-mpirun.sh $N $layout -x TUTTI_NET=socket -x TUTTI_SOCKET_STREAMS=$st -x TUTTI_SOCKET_STRIPE_MIN_BYTES=$sm -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "$layout $label: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6}')"
done; done
"$HOSTS" down $N
