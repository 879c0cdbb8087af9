#!/usr/bin/env bash
# Session 5, call 4: why 2 x 2 at 64 MiB fell with the handed-off stripe workers (3.6 against
# 4.6-4.8 for f5ef05c in call 3) while 2 x 1 doubled: stripe worker counts, reduction threads,
# and per-thread CPU with the machine's load (4 ranks of 2 hosts share one 16-CPU machine here).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src
uselib() { cp -f build/lib-$1/libtutti.so.0 /work/main/build/src/libtutti.so.0; }
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpx$$; "$HOSTS" up $N 2 >/dev/null
UCXENV="-x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0"
echo "== busbw GB/s 16M 64M, host buffers"
for pass in 1 2; do
for cfg in "2,2|old|old|" "2,2|new|new|" "2,2|new-w2|new|-x TUTTI_UCX_WORKERS=2" "2,2|new-w3|new|-x TUTTI_UCX_WORKERS=3" "2,2|new-rt2|new|-x TUTTI_REDUCE_THREADS=2" "2,2|old-w2|old|-x TUTTI_UCX_WORKERS=2" "1,1|new|new|" "1,1|new-w8|new|-x TUTTI_UCX_WORKERS=8" "1,1|new-w2|new|-x TUTTI_UCX_WORKERS=2"; do
  IFS='|' read -r layout label lib xs <<<"$cfg"; uselib $lib
  f=$R/bw-$label-${layout/,/x}-p$pass.txt
  timeout 90 scripts/netns-mpirun.sh $N $layout $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 16M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host > $f 2>&1
  echo "p$pass $layout $label: $(grep -E '^ +[0-9]+ ' $f | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done
for cfg in "old|old" "new|new"; do
  IFS='|' read -r label lib <<<"$cfg"; uselib $lib
  (perf/thread_cpu.sh all_reduce_perf 5 2 > $R/cpu-$label.txt 2>&1 &)
  timeout 60 scripts/netns-mpirun.sh $N 2,2 $UCXENV -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 600 -w 5 -d float -o sum --mem host > $R/cpu-run-$label.txt 2>&1
  echo "== per-thread CPU, $label, 64 MiB 2 x 2 ($(grep -E '^ +67108864' $R/cpu-run-$label.txt | awk '{print $8}') GB/s), threads >= 10%, summed by name"
  grep -v "^| ---" $R/cpu-$label.txt | awk -F'|' 'NR>1 && $5+0 > 0 {gsub(/ /,"",$4); s[$4]+=$5; n[$4]++} /busy/ {print "   " $0} END {for (k in s) if (s[k] >= 10) printf "   %s x%d: %d%% total\n", k, n[k], s[k]}'
done
echo "== 8 B latency us (oop), 200 iterations, 2 x 2"
for pass in 1 2 3; do
for cfg in "old|old|" "new|new|" "w1|new|-x TUTTI_UCX_WORKERS=1"; do
  IFS='|' read -r label lib xs <<<"$cfg"; uselib $lib
  timeout 40 scripts/netns-mpirun.sh $N 2,2 $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "p$pass $label: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6}')"
done; done
"$HOSTS" down $N
