#!/usr/bin/env bash
# Session 4, call 5: TUTTI_UCX_WORKERS unset now means auto (4 stripe workers on this box) and
# the proxy's chunk follows the network (16 MiB with stripe workers): the new default against
# one worker and sockets, host and device buffers, 8 B latency; GpuNodes on the default.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ab FLOOR_KIB=0 STREAMS_CEILING="1 4" PASSES=2 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
CONFIGS="sock:TUTTI_NET=socket w1:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=1 default:TUTTI_NET=ucx" \
  timeout 260 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns rc $?"; cat $R/table.txt
echo "== 8 B AllReduce latency (us), 200 iterations"
export HOSTS=$PWD/scripts/netns-hosts.sh
N=lat$$; "$HOSTS" up $N 2 >/dev/null
for pass in 1 2 3 4 5; do for layout in 1,1 2,2; do for cfg in socket:1 ucx:1 ucx:; do
  net=${cfg%:*}; w=${cfg#*:}
  timeout 30 scripts/netns-mpirun.sh $N $layout -x TUTTI_NET=$net -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 ${w:+-x TUTTI_UCX_WORKERS=$w} -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "pass $pass $layout $net workers=${w:-default}: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6" us oop"}')"
done; done; done
"$HOSTS" down $N
echo "== device vs host over UCX (loopback), busbw 4M / 16M / 64M oop"
run_g() {  # label, g, mem, env...
  local label=$1 g=$2 mem=$3; shift 3
  env "$@" TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_RANKS_PER_NODE=$((g / 2)) TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
    timeout 60 build/perf/all_reduce_perf -g $g --mem $mem -b 4M -e 64M -f 4 -n 20 -w 3 > $R/g.txt 2>&1
  echo "$label -g $g $mem: $(grep -E '^ +(4194304|16777216|67108864) ' $R/g.txt | awk '{printf "%s: %s (wrong %s); ", $1, $8, $9}')"
}
for pass in 1 2; do for g in 2 4; do
  run_g w1 $g host TUTTI_UCX_WORKERS=1
  run_g w1 $g device TUTTI_UCX_WORKERS=1
  run_g default $g host
  run_g default $g device
done; done
TUTTI_DEBUG=INFO TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_RANKS_PER_NODE=1 TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
  timeout 60 build/perf/all_reduce_perf -g 2 --mem device -b 1M -e 1M -n 2 -w 1 2>&1 | grep -E "host proxy|UCX: |stripe workers" | head -4
echo "== GpuNodes sweep over UCX, default workers"
TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
  timeout 150 build/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes.*' > $R/gpunodes.txt 2>&1
echo "rc $?"; grep -E "^\[ +(OK|FAILED|PASSED|SKIPPED) |tests ran" $R/gpunodes.txt | head; grep -m3 -i "failure\|error" $R/gpunodes.txt
