#!/usr/bin/env bash
# Session 5, call 3: stripe workers handed off (the executor trades positions with each driver
# through atomic counters and never takes a driver's lock) against f5ef05c's library (the
# executor try-locks or blocks on the driver's lock), interleaved in one call; 2 x 1 and 2 x 2
# host buffers, 8 B latency, device buffers (-g 2), and the GPU node sweep over 3 stripe workers.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src
uselib() { cp -f build/lib-$1/libtutti.so.0 /work/main/build/src/libtutti.so.0; }
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
R=$OUT; export BUILD_DIR=$PWD/build
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpw$$; "$HOSTS" up $N 2 >/dev/null
UCXENV="-x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0"
echo "== busbw GB/s, host buffers, 2 namespace hosts, UCX_TLS=tcp (1M 4M 16M 64M)"
for pass in 1 2; do for layout in 1,1 2,2; do
for cfg in "old|old|" "new|new|" "w1|new|-x TUTTI_UCX_WORKERS=1"; do
  IFS='|' read -r label lib xs <<<"$cfg"; uselib $lib
  f=$R/bw-$label-${layout/,/x}-p$pass.txt
  timeout 90 scripts/netns-mpirun.sh $N $layout $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 1M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host > $f 2>&1
  echo "p$pass $layout $label: $(grep -E '^ +[0-9]+ ' $f | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done; done
echo "== 8 B latency us (oop), 200 iterations"
for pass in 1 2; do for layout in 1,1 2,2; do
for cfg in "old|old|" "new|new|" "w1|new|-x TUTTI_UCX_WORKERS=1"; do
  IFS='|' read -r label lib xs <<<"$cfg"; uselib $lib
  f=$R/lat.txt
  timeout 40 scripts/netns-mpirun.sh $N $layout $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $f 2>&1
  echo "p$pass $layout $label: $(grep -E '^ +8 ' $f | awk '{print $6}')"
done; done; done
uselib new
(perf/thread_cpu.sh all_reduce_perf 4 2 > $R/cpu-new.txt 2>&1 &)
timeout 60 scripts/netns-mpirun.sh $N 1,1 $UCXENV -- \
  build/perf/all_reduce_perf -b 64M -e 64M -n 250 -w 5 -d float -o sum --mem host > $R/cpu-run.txt 2>&1
echo "== per-thread CPU, new, 64 MiB 2 x 1 ($(grep -E '^ +67108864' $R/cpu-run.txt | awk '{print $8}') GB/s)"
grep -v "^| ---" $R/cpu-new.txt | awk -F'|' 'NR>1 && $5+0 >= 5 {printf "   %s %s%%\n", $4, $5+0} /busy/ {print "   " $0}' | head -14
"$HOSTS" down $N
echo "== device vs host over UCX (lo, TUTTI_RANKS_PER_NODE=1, -g 2), busbw 16M / 64M"
for pass in 1 2; do for cfg in "old|old" "new|new" "w1|new"; do for mem in device host; do
  IFS='|' read -r label lib <<<"$cfg"; uselib $lib
  w=$([ $label = w1 ] && echo 1 || echo auto)
  TUTTI_UCX_WORKERS=$w TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_RANKS_PER_NODE=1 TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
    timeout 40 build/perf/all_reduce_perf -g 2 --mem $mem -b 16M -e 64M -f 4 -n 20 -w 3 > $R/g.txt 2>&1
  echo "p$pass $label $mem: $(grep -E '^ +(16777216|67108864) ' $R/g.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done; done
echo "== GpuNodes sweep over UCX, 3 stripe workers, 4 KiB stripes (both routes), new"
uselib new
TUTTI_UCX_WORKERS=3 TUTTI_UCX_STRIPE_BYTES=4k TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
  timeout 150 build/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes.*' > $R/gpunodes.txt 2>&1
echo "rc $?"; grep -E "^\[ +(PASSED|FAILED) |tests ran" $R/gpunodes.txt | head
