#!/usr/bin/env bash
# Session 4, call 2: hybrid with idle stripe workers left to their threads (progress and checkPeer).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ab FLOOR_KIB=0 STREAMS_CEILING="1 4" PASSES=3 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
CONFIGS="w1:TUTTI_NET=ucx w4:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=4" \
  timeout 280 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns rc $?"; cat $R/table.txt
echo "== 8 B AllReduce latency (us), 200 iterations"
export HOSTS=$PWD/scripts/netns-hosts.sh
N=lat$$; "$HOSTS" up $N 2 >/dev/null
for pass in 1 2 3; do for layout in 1,1 2,2; do for w in 1 4; do
  timeout 30 scripts/netns-mpirun.sh $N $layout -x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_UCX_WORKERS=$w -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "pass $pass $layout workers=$w: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6" us oop"}')"
done; done; done
"$HOSTS" down $N
echo "== device vs host over UCX (loopback, TUTTI_RANKS_PER_NODE=1, -g 2), busbw 4M / 16M / 64M oop"
for w in 1 4; do for mem in device host; do
  TUTTI_UCX_WORKERS=$w TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_RANKS_PER_NODE=1 TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
    timeout 40 build/perf/all_reduce_perf -g 2 --mem $mem -b 4M -e 64M -f 4 -n 20 -w 3 > $R/g.txt 2>&1
  echo "workers $w $mem: $(grep -E '^ +(4194304|16777216|67108864) ' $R/g.txt | awk '{printf "%s: %s (wrong %s); ", $1, $8, $9}')"
done; done
echo "== GpuNodes sweep over UCX, 3 workers (threshold 16 KiB, so both routes run)"
TUTTI_UCX_WORKERS=3 TUTTI_UCX_STRIPE_BYTES=4k TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
  timeout 120 build/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes.*' > $R/gpunodes.txt 2>&1
echo "rc $?"; grep -E "^\[ +(OK|FAILED|PASSED|SKIPPED) |tests ran" $R/gpunodes.txt | head; grep -m3 -i "failure\|error" $R/gpunodes.txt
