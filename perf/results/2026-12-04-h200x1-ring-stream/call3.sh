#!/usr/bin/env bash
# Session 6, call 3: the UCX stripe workers' sizes since the hand-off (8b48e05): staging ring,
# chunk (slot) and stripe sizes, 2 x 1 and 2 x 2 at 16/64 MiB, stepped ring (HEAD's plans).
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
UCXENV="-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_NET=ucx -x TUTTI_RING_STREAM=0"
echo "== busbw GB/s 16M 64M"
for pass in 1 2 3; do for layout in 1,1 2,2; do
for cfg in "default|" "stage8M|-x TUTTI_UCX_STAGING_BYTES=8M" "stage16M|-x TUTTI_UCX_STAGING_BYTES=16M" "chunk64K|-x TUTTI_UCX_CHUNK_BYTES=64K" "chunk128K-stage8M|-x TUTTI_UCX_CHUNK_BYTES=128K -x TUTTI_UCX_STAGING_BYTES=8M" "stripe2M|-x TUTTI_UCX_STRIPE_BYTES=2M" "stripe512K|-x TUTTI_UCX_STRIPE_BYTES=512K"; do
  [ $layout = 2,2 ] && [ $pass = 3 ] && continue
  IFS='|' read -r label xs <<<"$cfg"
  timeout 50 scripts/netns-mpirun.sh $N $layout $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 16M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host > $R/bw.txt 2>&1
  echo "p$pass $layout $label: $(grep -E '^ +[0-9]+ ' $R/bw.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done; done
"$HOSTS" down $N
