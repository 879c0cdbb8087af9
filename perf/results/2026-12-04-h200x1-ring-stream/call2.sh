#!/usr/bin/env bash
# Session 6, call 2: streamed ring vs stepped ring, more passes (2 x 1: sockets, UCX default),
# 8 B latency repeated, and per-thread CPU of 2 x 1 UCX default at 64 MiB in both modes.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
source perf/netns_lib.sh
N=tpz$$; "$HOSTS" up $N 2 >/dev/null
tcp_ceiling $N 1 3 $R/tcp-1.txt 5501; tcp_ceiling $N 4 3 $R/tcp-4.txt 5502
pd() { grep -o "per_direction_GBps [0-9.]*" "$1" | tail -1 | awk '{print $2}'; }
echo "TCP 1 stream $(pd $R/tcp-1.txt), 4 streams $(pd $R/tcp-4.txt)"
UCXENV="-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0"
S="-x TUTTI_RING_STREAM=0"
echo "== 2 x 1 busbw GB/s 4M 16M 64M"
for pass in 1 2 3 4; do
for cfg in "sock|-x TUTTI_NET=socket" "sock-step|-x TUTTI_NET=socket $S" "default|-x TUTTI_NET=ucx" "default-step|-x TUTTI_NET=ucx $S"; do
  IFS='|' read -r label xs <<<"$cfg"
  f=$R/bw.txt
  timeout 60 scripts/netns-mpirun.sh $N 1,1 $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 4M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host > $f 2>&1
  echo "p$pass $label: $(grep -E '^ +[0-9]+ ' $f | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done
echo "== 8 B latency us (oop), 200 iterations, 2 x 1"
for pass in 1 2 3; do
for cfg in "sock|-x TUTTI_NET=socket" "sock-step|-x TUTTI_NET=socket $S" "default|-x TUTTI_NET=ucx" "default-step|-x TUTTI_NET=ucx $S"; do
  IFS='|' read -r label xs <<<"$cfg"
  timeout 40 scripts/netns-mpirun.sh $N 1,1 $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "p$pass $label: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6}')"
done; done
for cfg in "default|-x TUTTI_NET=ucx" "default-step|-x TUTTI_NET=ucx $S" "sock|-x TUTTI_NET=socket" "sock-step|-x TUTTI_NET=socket $S"; do
  IFS='|' read -r label xs <<<"$cfg"
  (perf/thread_cpu.sh all_reduce_perf 4 2 > $R/cpu-$label.txt 2>&1 &)
  timeout 60 scripts/netns-mpirun.sh $N 1,1 $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 400 -w 5 -d float -o sum --mem host > $R/cpu-run-$label.txt 2>&1
  echo "== per-thread CPU, $label, 64 MiB 2 x 1 ($(grep -E '^ +67108864' $R/cpu-run-$label.txt | awk '{print $8}') GB/s)"
  grep -v "^| ---" $R/cpu-$label.txt | awk -F'|' 'NR>1 && $5+0 >= 8 {printf "   %s %s%%\n", $4, $5+0} /busy/ {print "   " $0}'
done
"$HOSTS" down $N
