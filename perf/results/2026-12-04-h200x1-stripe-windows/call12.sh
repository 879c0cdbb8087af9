#!/usr/bin/env bash
# Session 8, call 12 (experiment diff applied): UCX 8 B on 2 x 1 and 2 x 2 with the old progress
# (TUTTI_X_LAT=0) and the new (3), eight interleaved passes of 5000 iterations, and the
# 8-byte exchange floor, plus sockets for reference.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
export BUILD_DIR=$PWD/build
HOSTS=$PWD/scripts/netns-hosts.sh MPIRUN=$PWD/scripts/netns-mpirun.sh
source perf/netns_lib.sh
NAME=tx$$; netns_run_begin "$NAME" 2
U=(-x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0)
port=5701
for pass in 1 2 3 4 5 6 7 8; do
  ucx_ceiling "$NAME" 1 "$OUT/ucx-p$pass.txt" $((port++)) --exchange 5000
  line="p$pass UCX exchange $(grep -o 'exchange_us [0-9.]*' $OUT/ucx-p$pass.txt | cut -d' ' -f2) us;"
  for layout in 1,1 2,2; do
    for x in 0 3; do
      "$MPIRUN" "$NAME" $layout "${U[@]}" -x TUTTI_X_LAT=$x -- build/perf/all_reduce_perf -b 8 -e 8 -n 5000 -w 500 -d float -o sum --mem host > $OUT/lat-$layout-$x-p$pass.txt 2>&1
      line="$line $layout x$x $(awk '$1 == "8" && NF >= 13 {print $6}' $OUT/lat-$layout-$x-p$pass.txt)"
    done
  done
  echo "$line"
done
netns_run_end "$NAME"
