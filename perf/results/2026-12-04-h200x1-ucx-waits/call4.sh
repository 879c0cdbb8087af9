#!/usr/bin/env bash
# Session 6, call 4 (experiment, ucx-wait-stats.diff): where the stripe drivers sleep (no
# credit, receive slots full, nothing to do) and how often the executor finds nothing, 2 x 1
# and 2 x 2 at 64 MiB, default sizes and a 16 MiB staging ring.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpz$$; "$HOSTS" up $N 2 >/dev/null
UCXENV="-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_NET=ucx"
for pass in 1 2; do for layout in 1,1 2,2; do
for cfg in "default|" "stage16M|-x TUTTI_UCX_STAGING_BYTES=16M" "w1|-x TUTTI_UCX_WORKERS=1"; do
  IFS='|' read -r label xs <<<"$cfg"
  timeout 50 scripts/netns-mpirun.sh $N $layout $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 40 -w 5 -d float -o sum --mem host > $R/bw.txt 2>&1
  echo "p$pass $layout $label: $(grep -E '^ +[0-9]+ ' $R/bw.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
  grep "ucx-wait" $R/bw.txt | sed 's/^/    /'
done; done; done
"$HOSTS" down $N
