#!/usr/bin/env bash
# Session 5, call 2: does the executor wait on the stripe drivers' locks? Lock statistics, and
# a hand-off (the driver yields the lock at its next UCX call when the executor waits), and the
# driver's progress pass cut from 64 UCX calls, 2 x 1 and 2 x 2, 16 and 64 MiB.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpv$$; "$HOSTS" up $N 2 >/dev/null
for pass in 1 2; do
for layout in 1,1 2,2; do
for cfg in "w1|-x TUTTI_UCX_WORKERS=1" "default|" "handoff|-x TUTTI_X_HANDOFF=1" "spins4|-x TUTTI_X_DRIVE_SPINS=4" "spins1|-x TUTTI_X_DRIVE_SPINS=1" "handoff-spins4|-x TUTTI_X_HANDOFF=1 -x TUTTI_X_DRIVE_SPINS=4"; do
  label=${cfg%%|*}; xs=${cfg#*|}
  [ $layout = 2,2 ] && [ $label = spins1 ] && continue
  f=$R/run-$label-${layout/,/x}-p$pass.txt
  timeout 90 scripts/netns-mpirun.sh $N $layout -x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_X_STATS=1 $xs -- \
    build/perf/all_reduce_perf -b 16M -e 64M -f 4 -n 40 -w 5 -d float -o sum --mem host > $f 2>&1
  echo "p$pass $layout $label: 16M $(grep -E '^ +16777216' $f | awk '{print $8}') 64M $(grep -E '^ +67108864' $f | awk '{print $8}')  wrong $(grep -E '^ +67108864' $f | awk '{print $9}')"
  if [ $pass = 1 ]; then grep XSTATS $f | awk '{l+=$4; e+=$6; h+=$8; if ($10>m) m=$10; tf+=$14; b+=$16; bm+=$18} END {if (NR) printf "    %d drivers: loops %d events %d hold_ms %.0f max_hold_us %.0f | caller tryfails %d blocked %d blocked_ms %.1f\n", NR, l, e, h, m, tf, b, bm}'; fi
done; done; done
"$HOSTS" down $N
