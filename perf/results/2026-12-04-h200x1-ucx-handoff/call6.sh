#!/usr/bin/env bash
# Session 5, call 6 (8b48e05): the results table. Sockets, one UCX worker and the default (4
# handed-off stripe workers) against the TCP ceilings of 1 and 4 streams, their message floors
# and UCX's own ceiling over 1 and 4 lanes, 2 x 1 and 2 x 2; f5ef05c's default beside it at
# 16/64 MiB; 8 B latency.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src
uselib() { cp -f build/lib-$1/libtutti.so.0 /work/main/build/src/libtutti.so.0; }
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader); UCX $(ls /usr/lib/x86_64-linux-gnu/libucp.so.0.* 2>/dev/null | sed 's/.*so.0.//'); $(mpirun --version 2>&1 | head -1)"
R=$OUT; export BUILD_DIR=$PWD/build
uselib new
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="1 4" CEILING_UCX_LANES="1 4" PASSES=2 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
CONFIGS="sock:TUTTI_NET=socket w1:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=1 default:TUTTI_NET=ucx" \
  timeout 300 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns rc $?"; cat $R/table.txt
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpz$$; "$HOSTS" up $N 2 >/dev/null
UCXENV="-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0"
echo "== f5ef05c's default beside 8b48e05's, busbw 16M 64M"
for layout in 1,1 2,2; do for lib in old new; do
  uselib $lib
  timeout 90 scripts/netns-mpirun.sh $N $layout -x TUTTI_NET=ucx $UCXENV -- \
    build/perf/all_reduce_perf -b 16M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host > $R/ab.txt 2>&1
  echo "$layout $lib: $(grep -E '^ +[0-9]+ ' $R/ab.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done
echo "== 8 B latency us (oop), 200 iterations"
for pass in 1 2; do for layout in 1,1 2,2; do
for cfg in "sock|new|-x TUTTI_NET=socket" "w1|new|-x TUTTI_NET=ucx -x TUTTI_UCX_WORKERS=1" "old|old|-x TUTTI_NET=ucx" "new|new|-x TUTTI_NET=ucx"; do
  IFS='|' read -r label lib xs <<<"$cfg"; uselib $lib
  timeout 40 scripts/netns-mpirun.sh $N $layout $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "p$pass $layout $label: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6}')"
done; done; done
"$HOSTS" down $N
