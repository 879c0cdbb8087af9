#!/usr/bin/env bash
# Session 6, call 7: cold memory against hot in UCX's and TCP's own ceilings (4 lanes / 4
# streams, both directions at once), beside Tutti's 2 x 1 default at 64 MiB. Library 9c158b1's.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
source perf/netns_lib.sh
N=tpz$$; "$HOSTS" up $N 2 >/dev/null
pd() { grep -o "per_direction_GBps [0-9.]*" "$1" | tail -1 | awk '{print $2}'; }
P=5600
for pass in 1 2; do
  P=$((P+1)); tcp_ceiling $N 4 3 $R/t.txt $P;                          echo "p$pass TCP 4 streams, hot stream:            $(pd $R/t.txt)"
  P=$((P+1)); tcp_ceiling $N 4 3 $R/t.txt $P -m 32768 --hot 256;       echo "p$pass TCP 4 streams, hot steps:             $(pd $R/t.txt)"
  P=$((P+1)); tcp_ceiling $N 4 3 $R/t.txt $P -m 32768;                 echo "p$pass TCP 4 streams, cold steps:            $(pd $R/t.txt)"
  P=$((P+1)); ucx_ceiling $N 3 $R/u.txt $P -l 4;                       echo "p$pass UCX 4 lanes, hot stream:              $(pd $R/u.txt)"
  P=$((P+1)); ucx_ceiling $N 3 $R/u.txt $P -l 4 --cold 64;             echo "p$pass UCX 4 lanes, cold stream (64 MiB):    $(pd $R/u.txt)"
  P=$((P+1)); ucx_ceiling $N 3 $R/u.txt $P -l 4 -m 32768;              echo "p$pass UCX 4 lanes, cold steps:              $(pd $R/u.txt)"
  P=$((P+1)); ucx_ceiling $N 3 $R/u.txt $P -l 1;                       echo "p$pass UCX 1 lane, hot stream:               $(pd $R/u.txt)"
  P=$((P+1)); ucx_ceiling $N 3 $R/u.txt $P -l 1 --cold 64;             echo "p$pass UCX 1 lane, cold stream (64 MiB):     $(pd $R/u.txt)"
  timeout 50 scripts/netns-mpirun.sh $N 1,1 -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_NET=ucx -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 40 -w 5 -d float -o sum --mem host > $R/bw.txt 2>&1
  echo "p$pass Tutti 2 x 1 UCX default, 64 MiB busbw:  $(grep -E '^ +67108864 ' $R/bw.txt | awk '{printf "%s wrong %s", $8, $9}')"
done
"$HOSTS" down $N
