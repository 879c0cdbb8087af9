#!/usr/bin/env bash
# Session 6, call 1: streamed ring (one step, each send following the op that produces its
# block) against the stepped ring (TUTTI_RING_STREAM=0) in the same library, same call.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader); UCX $(ls /usr/lib/x86_64-linux-gnu/libucp.so.0.* 2>/dev/null | sed 's/.*so.0.//'); $(mpirun --version 2>&1 | head -1)"
R=$OUT; export BUILD_DIR=$PWD/build
S=TUTTI_RING_STREAM=0
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="1 4" CEILING_UCX_LANES="4" PASSES=2 LAYOUTS="1,1 2,2" MIN=16M MAX=64M \
CONFIGS="sock:TUTTI_NET=socket sock-step:TUTTI_NET=socket,$S w1:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=1 w1-step:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=1,$S default:TUTTI_NET=ucx default-step:TUTTI_NET=ucx,$S" \
  timeout 330 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns rc $?"; grep -v "^| ---" $R/table.txt | sed 's/ (TUTTI_[^)]*)//'
export HOSTS=$PWD/scripts/netns-hosts.sh
N=tpz$$; "$HOSTS" up $N 2 >/dev/null
UCXENV="-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0"
echo "== 8 B latency us (oop), 200 iterations"
for layout in 1,1 2,2; do
for cfg in "sock|-x TUTTI_NET=socket" "sock-step|-x TUTTI_NET=socket -x $S" "default|-x TUTTI_NET=ucx" "default-step|-x TUTTI_NET=ucx -x $S"; do
  IFS='|' read -r label xs <<<"$cfg"
  timeout 40 scripts/netns-mpirun.sh $N $layout $UCXENV $xs -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "$layout $label: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6}')"
done; done
"$HOSTS" down $N
export TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0
echo "== device buffers through the proxy, busbw 16M 64M"
for pass in 1 2; do for g in 2 4; do for st in 1 0; do
  TUTTI_RING_STREAM=$st TUTTI_RANKS_PER_NODE=$((g/2)) timeout 60 build/perf/all_reduce_perf -g $g --mem device -b 16M -e 64M -f 4 -n 20 -w 3 > $R/g.txt 2>&1
  echo "p$pass -g $g stream=$st: $(grep -E '^ +(16777216|67108864) ' $R/g.txt | awk '{printf "%s ", $8} {w+=$9} END {printf " wrong %d", w}')"
done; done; done
timeout 150 build/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes.*' > $R/gpunodes.txt 2>&1
echo "GpuNodes rc $?: $(grep -E '^\[ +(PASSED|FAILED) ' $R/gpunodes.txt | tr '\n' ' ')"
