#!/usr/bin/env bash
# Session 6, call 6: is the 2 x 1 UCX default memory-bound? Memory copy rate alone, TCP 4
# streams and Tutti alone, and each beside a 4-thread memcpy load.
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
for t in 1 2 4 8; do .gl/membw $t 2; done
UCXENV="-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_NET=ucx"
tutti() { timeout 50 scripts/netns-mpirun.sh $N 1,1 $UCXENV -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 200 -w 5 -d float -o sum --mem host > $R/bw.txt 2>&1
  echo "tutti 2x1 default 64M: $(grep -E '^ +67108864 ' $R/bw.txt | awk '{printf "%s wrong %s", $8, $9}')"; }
for pass in 1 2; do
  tcp_ceiling $N 4 4 $R/tcp.txt $((5500+pass)); echo "p$pass TCP 4 streams alone $(pd $R/tcp.txt)"
  (sleep 0.5; .gl/membw 4 3 | sed 's/^/   beside TCP: /') & tcp_ceiling $N 4 4 $R/tcp2.txt $((5510+pass)); wait
  echo "p$pass TCP 4 streams with memcpy load $(pd $R/tcp2.txt)"
  tutti
  (sleep 2; .gl/membw 4 3 | sed 's/^/   beside tutti: /') & tutti; wait
done
"$HOSTS" down $N
