#!/usr/bin/env bash
# Session 5, call 1: what UCX itself carries over 1, 2, 4, 8 lanes (a context, worker, endpoint
# and thread each), without Tutti, next to plain TCP streams and Tutti's stripe workers, 2 x 1.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
source perf/netns_lib.sh
N=tpu$$; "$HOSTS" up $N 2 >/dev/null
P=5500; np_() { P=$((P+1)); }
pd() { grep -o "per_direction_GBps [0-9.]*" "$1" | tail -1 | awk '{print $2}'; }
for pass in 1 2; do
  for s in 1 4 8; do np_; tcp_ceiling $N $s 3 $R/tcp-$s-p$pass.txt $P; echo "p$pass tcp streams=$s $(pd $R/tcp-$s-p$pass.txt)"; done
  for l in 1 2 4 8; do np_; ucx_ceiling $N 3 $R/ucx-l$l-p$pass.txt $P -l $l; echo "p$pass ucx lanes=$l $(pd $R/ucx-l$l-p$pass.txt)"; done
done
for l in 1 4; do np_; tcp_ceiling $N $l 3 $R/tfloor-$l.txt $P -m 32768; echo "tcp floor streams=$l $(pd $R/tfloor-$l.txt)"; done
for l in 1 4 8; do np_; ucx_ceiling $N 3 $R/ufloor-l$l.txt $P -m 32768 -l $l; echo "ucx floor lanes=$l $(pd $R/ufloor-l$l.txt)"; done
for c in 256 1024; do np_; ucx_ceiling $N 3 $R/ucx-l4-c$c.txt $P -l 4 -c $c -w 16; echo "ucx lanes=4 chunk=${c}K window 16 $(pd $R/ucx-l4-c$c.txt)"; done
# per-thread CPU of 4 lanes, stream mode
(perf/thread_cpu.sh ucx_bidir_bench 2 2 > $R/cpu-ucx-l4.txt 2>&1 &)
np_; ucx_ceiling $N 6 $R/ucx-l4-cpu.txt $P -l 4; echo "ucx lanes=4 (cpu run) $(pd $R/ucx-l4-cpu.txt)"
grep -v "^| ---" $R/cpu-ucx-l4.txt | awk -F'|' 'NR>1 && $5+0 >= 5 {printf "   %s %s%%\n", $4, $5+0} /busy/ {print "   " $0}'
for pass in 1 2; do
for cfg in "w1|-x TUTTI_NET=ucx -x TUTTI_UCX_WORKERS=1" "default|-x TUTTI_NET=ucx" "w8|-x TUTTI_NET=ucx -x TUTTI_UCX_WORKERS=8" "sock|-x TUTTI_NET=socket"; do
  label=${cfg%%|*}; xs=${cfg#*|}
  timeout 60 scripts/netns-mpirun.sh $N 1,1 -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 $xs -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 60 -w 5 -d float -o sum --mem host > $R/run-$label-p$pass.txt 2>&1
  echo "p$pass tutti $label 64M: $(grep -E '^ +67108864' $R/run-$label-p$pass.txt | awk '{print $8" GB/s busbw"}')"
done; done
"$HOSTS" down $N
