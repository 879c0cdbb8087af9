#!/usr/bin/env bash
# Session 5, call 5: handed-off stripe workers whose drivers sleep while credit-starved (call 4
# found them spinning through UCX for credit), against f5ef05c, interleaved; 2 x 1 and 2 x 2,
# 1-64 MiB, 8 stripe workers, per-thread CPU at 2 x 2, device buffers.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src
uselib() { cp -f build/lib-$1/libtutti.so.0 /work/main/build/src/libtutti.so.0; }
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpy$$; "$HOSTS" up $N 2 >/dev/null
UCXENV="-x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0"
echo "== busbw GB/s 1M 4M 16M 64M, host buffers"
for pass in 1 2; do
for cfg in "1,1|old|old|" "1,1|new|new|" "1,1|w1|new|-x TUTTI_UCX_WORKERS=1" "2,2|old|old|" "2,2|new|new|" "2,2|w1|new|-x TUTTI_UCX_WORKERS=1" "1,1|new-w8|new|-x TUTTI_UCX_WORKERS=8" "2,2|new-w2|new|-x TUTTI_UCX_WORKERS=2"; do
  IFS='|' read -r layout label lib xs <<<"$cfg"; uselib $lib
  f=$R/bw-$label-${layout/,/x}-p$pass.txt
  timeout 90 scripts/netns-mpirun.sh $N $layout $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 1M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host > $f 2>&1
  echo "p$pass $layout $label: $(grep -E '^ +[0-9]+ ' $f | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done
for cfg in "old|old" "new|new"; do
  IFS='|' read -r label lib <<<"$cfg"; uselib $lib
  (perf/thread_cpu.sh all_reduce_perf 5 2 > $R/cpu-$label.txt 2>&1 &)
  timeout 60 scripts/netns-mpirun.sh $N 2,2 $UCXENV -- \
    build/perf/all_reduce_perf -b 64M -e 64M -n 600 -w 5 -d float -o sum --mem host > $R/cpu-run-$label.txt 2>&1
  echo "== per-thread CPU, $label, 64 MiB 2 x 2 ($(grep -E '^ +67108864' $R/cpu-run-$label.txt | awk '{print $8}') GB/s), summed by name"
  grep -v "^| ---" $R/cpu-$label.txt | awk -F'|' 'NR>1 && $5+0 > 0 {gsub(/ /,"",$4); s[$4]+=$5; n[$4]++} /busy/ {print "   " $0} END {for (k in s) if (s[k] >= 10) printf "   %s x%d: %d%% total\n", k, n[k], s[k]}'
done
"$HOSTS" down $N
echo "== device vs host over UCX (lo, TUTTI_RANKS_PER_NODE=1, -g 2), busbw 16M / 64M"
for pass in 1 2; do for cfg in "old|old" "new|new"; do for mem in device host; do
  IFS='|' read -r label lib <<<"$cfg"; uselib $lib
  TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_RANKS_PER_NODE=1 TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
    timeout 40 build/perf/all_reduce_perf -g 2 --mem $mem -b 16M -e 64M -f 4 -n 20 -w 3 > $R/g.txt 2>&1
  echo "p$pass $label $mem: $(grep -E '^ +(16777216|67108864) ' $R/g.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done; done
