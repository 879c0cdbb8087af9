#!/usr/bin/env bash
# Session 6, call 5 (experiment, ucx-driver-spin.diff): stripe drivers keep polling for
# TUTTI_UCX_DRIVER_SPIN_US of idleness before sleeping on the event fd (never without credit).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
source perf/netns_lib.sh
N=tpz$$; "$HOSTS" up $N 2 >/dev/null
tcp_ceiling $N 4 3 $R/tcp-4.txt 5502
pd() { grep -o "per_direction_GBps [0-9.]*" "$1" | tail -1 | awk '{print $2}'; }
echo "TCP 4 streams $(pd $R/tcp-4.txt)"
UCXENV="-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_NET=ucx"
for pass in 1 2; do for layout in 1,1 2,2; do
for spin in 0 20 100 500; do
  timeout 50 scripts/netns-mpirun.sh $N $layout $UCXENV -x TUTTI_UCX_DRIVER_SPIN_US=$spin -- \
    build/perf/all_reduce_perf -b 16M -e 64M -f 4 -n 30 -w 5 -d float -o sum --mem host > $R/bw.txt 2>&1
  echo "p$pass $layout spin=$spin: $(grep -E '^ +[0-9]+ ' $R/bw.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
  grep "ucx-wait" $R/bw.txt | head -1 | sed 's/executor.*//; s/^/    /'
done; done; done
echo "== 8 B latency us, 2 x 1"
for spin in 0 100; do
  timeout 40 scripts/netns-mpirun.sh $N 1,1 $UCXENV -x TUTTI_UCX_DRIVER_SPIN_US=$spin -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "spin=$spin: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6}')"
done
"$HOSTS" down $N
