#!/usr/bin/env bash
# Session 4, call 6: where do idle stripe workers cost the 8 B latency (2 hosts x 1)? Temporary
# switches: TUTTI_X_SLEEP_MS (driver's poll bound), TUTTI_X_SKIP_DRIVEN (the striped stream
# leaves its stripe parts alone between striped messages).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT
export HOSTS=$PWD/scripts/netns-hosts.sh
N=lat$$; "$HOSTS" up $N 2 >/dev/null
declare -A sum cnt
for pass in 1 2 3 4 5; do for layout in 1,1; do
  for cfg in "w1|-x TUTTI_UCX_WORKERS=1" "w4|-x TUTTI_UCX_WORKERS=4" "w2|-x TUTTI_UCX_WORKERS=2" \
             "w4-sleep200|-x TUTTI_UCX_WORKERS=4 -x TUTTI_X_SLEEP_MS=200" \
             "w4-skip|-x TUTTI_UCX_WORKERS=4 -x TUTTI_X_SKIP_DRIVEN=1" \
             "w4-both|-x TUTTI_UCX_WORKERS=4 -x TUTTI_X_SKIP_DRIVEN=1 -x TUTTI_X_SLEEP_MS=200"; do
    label=${cfg%%|*}; xs=${cfg#*|}
    timeout 30 scripts/netns-mpirun.sh $N $layout -x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 $xs -- \
      build/perf/all_reduce_perf -b 8 -e 8 -n 300 -w 30 -d float -o sum --mem host > $R/lat.txt 2>&1
    t=$(grep -E '^ +8 ' $R/lat.txt | awk '{print $6}')
    echo "pass $pass $layout $label: $t us"
  done
done; done
"$HOSTS" down $N
