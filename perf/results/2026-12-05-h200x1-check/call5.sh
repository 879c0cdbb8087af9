#!/usr/bin/env bash
# Session 9, call 3: the proxy's tuner may now choose recursive doubling. Build, the GPU-node
# sweeps (every collective x dtype x op, auto choices), then auto against forced plans, 3 rounds.
set -uo pipefail
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"
export NCCL_NVLS_ENABLE=0 TUTTI_ALLOW_SHARED_GPU=1
cmake -S . -B build-gpu -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release > $OUT/configure.log 2>&1
t0=$SECONDS; ninja -C build-gpu tutti all_reduce_perf gpu_collectives_test gpu_executor_test gpu_single_process_test > $OUT/build.log 2>&1; echo "build rc $? ($((SECONDS-t0)) s)"
t0=$SECONDS; timeout 200 build-gpu/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes*' > $OUT/nodes.log 2>&1; echo "GpuNodes rc $? ($((SECONDS-t0)) s) $(grep -E '^\[  (PASSED|FAILED)' $OUT/nodes.log | tr '\n' ' ')"
t0=$SECONDS; timeout 120 build-gpu/tests/gpu/gpu_executor_test --gtest_filter='*AcrossGpuNodes*' > $OUT/exec.log 2>&1; echo "executor nodes rc $? ($((SECONDS-t0)) s) $(grep -E '^\[  (PASSED|FAILED)' $OUT/exec.log | tr '\n' ' ')"
t0=$SECONDS; timeout 120 build-gpu/tests/gpu/gpu_single_process_test --gtest_filter='*Nodes*' > $OUT/sp.log 2>&1; echo "single process nodes rc $? ($((SECONDS-t0)) s) $(grep -E '^\[  (PASSED|FAILED)' $OUT/sp.log | tr '\n' ' ')"
B=build-gpu/perf/all_reduce_perf
TUTTI_RANKS_PER_NODE=2 TUTTI_DEBUG=INFO timeout 60 $B -g 4 --mem device -b 8 -e 256K -f 8 -n 2 -w 1 > $OUT/info.txt 2>&1
grep -E "AllReduce [0-9]+ bytes: ran" $OUT/info.txt | sed "s/.*TUTTI INFO //" | sort -u | head -12
for round in 1 2 3; do for rpn in 2 1; do for a in auto rd direct hierarchical ring two_shot; do
  TUTTI_RANKS_PER_NODE=$rpn TUTTI_ALGO=allreduce:$a timeout 60 $B -g 4 --mem device -b 8 -e 256K -f 8 -n 100 -w 10 -c 1 > $OUT/r$round-$rpn-$a.txt 2>&1
  echo "r$round rpn=$rpn $a: $(awk '$1 ~ /^[0-9]+$/ {printf "%s:%s/%s ", $1, $6, $10}' $OUT/r$round-$rpn-$a.txt)"
done; done; done
echo "end $(date -u '+%F %T') load $(cut -d' ' -f1-3 /proc/loadavg)"
tar czf $OUT/raw.tgz -C $OUT --exclude raw.tgz . 2>/dev/null
