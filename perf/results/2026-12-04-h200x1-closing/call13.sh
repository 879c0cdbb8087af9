#!/usr/bin/env bash
# Session 7, call 13: where a 2 x 2 64 MiB AllReduce over UCX spends its CPU, against sockets
# (per-thread CPU over 2 s of a long loop, perf/thread_cpu.sh), final defaults (b49e05c+).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"
R=$OUT
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tc$$; "$HOSTS" up $N 2 >/dev/null
UCXENV="-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0"
for cfg in "ucx|-x TUTTI_NET=ucx" "sock|-x TUTTI_NET=socket"; do
  IFS='|' read -r label xs <<<"$cfg"
  (perf/thread_cpu.sh all_reduce_perf 4 2 > $R/cpu-$label.txt 2>&1 &)
  timeout 60 scripts/netns-mpirun.sh $N 2,2 $UCXENV $xs -x TUTTI_DEBUG=INFO -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 300 -w 5 -d float -o sum --mem host > $R/cpu-run-$label.txt 2>&1
  echo "== per-thread CPU, $label, 64 MiB 2 x 2 ($(grep -E '^ +67108864' $R/cpu-run-$label.txt | awk '{print $8}') GB/s)"
  grep -v "^| ---" $R/cpu-$label.txt | awk -F'|' 'NR>1 && $5+0 >= 8 {printf "   %s %s%%\n", $4, $5+0} /busy/ {print "   " $0}'
  grep -m3 -E "host reductions|stripe workers|streams for messages" $R/cpu-run-$label.txt
done
"$HOSTS" down $N
