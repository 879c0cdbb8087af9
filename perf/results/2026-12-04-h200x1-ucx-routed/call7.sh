#!/usr/bin/env bash
# Session 4, call 7: per-thread CPU at 64 MiB (2 hosts x 1) with the new default (4 stripe
# workers) against one worker, and the reduction threads' count: what caps the stripe workers?
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpt$$; "$HOSTS" up $N 2 >/dev/null
for pass in 1 2; do
for cfg in "w1|-x TUTTI_UCX_WORKERS=1" "default|" "default-rt8|-x TUTTI_REDUCE_THREADS=8" "default-rt1|-x TUTTI_REDUCE_THREADS=1" "w8|-x TUTTI_UCX_WORKERS=8"; do
  label=${cfg%%|*}; xs=${cfg#*|}
  (perf/thread_cpu.sh all_reduce_perf 4 2 > $R/cpu-$label.txt 2>&1 &)
  timeout 60 scripts/netns-mpirun.sh $N 1,1 -x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 $xs -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 250 -w 5 -d float -o sum --mem host > $R/run-$label.txt 2>&1
  echo "== pass $pass $label: $(grep -E '^ +67108864' $R/run-$label.txt | awk '{print $8" GB/s busbw"}')"
  [ $pass = 1 ] && grep -v "^| ---" $R/cpu-$label.txt | awk -F'|' 'NR>1 && $5+0 >= 5 {printf "   %s %s%%\n", $4, $5+0} /busy/ {print "   " $0}' | head -24
done; done
"$HOSTS" down $N
