#!/usr/bin/env bash
# Session 8, call 8 (experiment, uncommitted TUTTI_X_LAT): UCX worker 0's 8 B latency with
# (1) the progress loop in recvPeek stopping once the message is visible, (2) no progress at a
# step's end when nothing is owed; and what (1) does to worker 0's bulk (1 worker, 64 MiB; and
# 1-4 MiB with the default 4 workers, where messages stay on worker 0).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
export BUILD_DIR=$PWD/build
HOSTS=$PWD/scripts/netns-hosts.sh MPIRUN=$PWD/scripts/netns-mpirun.sh
source perf/netns_lib.sh
NAME=tx$$; trap '"$HOSTS" down "$NAME"' EXIT; "$HOSTS" up "$NAME" 2 >/dev/null
U=(-x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0)
port=5601
for pass in 1 2 3 4; do
  ucx_ceiling "$NAME" 1 "$OUT/ucx-p$pass.txt" $((port++)) --exchange 5000
  line="p$pass UCX exchange $(grep -o 'exchange_us [0-9.]*' $OUT/ucx-p$pass.txt | cut -d' ' -f2) us; Tutti UCX 8 B:"
  for x in 0 1 2 3; do
    "$MPIRUN" "$NAME" 1,1 "${U[@]}" -x TUTTI_X_LAT=$x -- build/perf/all_reduce_perf -b 8 -e 8 -n 3000 -w 300 -d float -o sum --mem host > $OUT/lat-$x-p$pass.txt 2>&1
    line="$line x$x $(awk '$1 == "8" && NF >= 13 {print $6}' $OUT/lat-$x-p$pass.txt)"
  done
  echo "$line"
done
for pass in 1 2; do for x in 0 3; do
  "$MPIRUN" "$NAME" 1,1 "${U[@]}" -x TUTTI_X_LAT=$x -x TUTTI_UCX_WORKERS=1 -- build/perf/all_reduce_perf -b 1M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host > $OUT/bw1-$x-p$pass.txt 2>&1
  "$MPIRUN" "$NAME" 1,1 "${U[@]}" -x TUTTI_X_LAT=$x -- build/perf/all_reduce_perf -b 1M -e 4M -f 2 -n 30 -w 5 -d float -o sum --mem host > $OUT/bw4-$x-p$pass.txt 2>&1
  echo "p$pass x$x busbw 1 worker 1/4/16/64 MiB: $(awk '!/^#/ && NF >= 13 {printf "%s ", $8}' $OUT/bw1-$x-p$pass.txt); 4 workers 1/2/4 MiB: $(awk '!/^#/ && NF >= 13 {printf "%s ", $8}' $OUT/bw4-$x-p$pass.txt) wrong $(awk '!/^#/ && NF >= 13 {w += $9 + $13} END {print w+0}' $OUT/bw1-$x-p$pass.txt $OUT/bw4-$x-p$pass.txt)"
done; done
