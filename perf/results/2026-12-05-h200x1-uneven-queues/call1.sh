#!/usr/bin/env bash
# Session 12, call 1: next-call.sh's GPU part (build, GPU-node suites, the fault tests with the
# watchdog's exit test, the 32 KiB out-of-place check, small sizes device vs host), then the
# eleven-host UCX case of many_hosts_test looped on the box's UCX 1.16.
set -uo pipefail
L=/tmp/o; mkdir -p $L; trap 'tar czf $OUT/raw.tgz -C $L .' EXIT
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; ucx_info -v 2>/dev/null | head -2
export NCCL_NVLS_ENABLE=0 TUTTI_ALLOW_SHARED_GPU=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cmake -S . -B build-gpu -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release > $L/configure.log 2>&1
t0=$SECONDS; ninja -C build-gpu tutti all_reduce_perf gpu_collectives_test gpu_executor_test gpu_single_process_test gpu_faults_test many_hosts_test > $L/build.log 2>&1; echo "build rc $? ($((SECONDS-t0)) s)"
t0=$SECONDS; timeout 200 build-gpu/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes*' > $L/nodes.log 2>&1; echo "GpuNodes rc $? ($((SECONDS-t0)) s) $(grep -E '^\[  (PASSED|FAILED)' $L/nodes.log | tr '\n' ' ')"
t0=$SECONDS; timeout 120 build-gpu/tests/gpu/gpu_executor_test --gtest_filter='*AcrossGpuNodes*' > $L/exec.log 2>&1; echo "executor nodes rc $? ($((SECONDS-t0)) s) $(grep -E '^\[  (PASSED|FAILED)' $L/exec.log | tr '\n' ' ')"
t0=$SECONDS; timeout 120 build-gpu/tests/gpu/gpu_single_process_test --gtest_filter='*Nodes*' > $L/sp.log 2>&1; echo "single process nodes rc $? ($((SECONDS-t0)) s) $(grep -E '^\[  (PASSED|FAILED)' $L/sp.log | tr '\n' ' ')"
t0=$SECONDS; timeout 120 build-gpu/tests/gpu/gpu_faults_test > $L/faults.log 2>&1; echo "faults rc $? ($((SECONDS-t0)) s) $(grep -E '^\[  (PASSED|FAILED)' $L/faults.log | tr '\n' ' ')"
B=$PWD/build-gpu/perf/all_reduce_perf
for v in "c1 -n 100 -c 1" "c0 -n 100 -c 0" "long -n 1000 -c 0"; do set -- $v; tag=$1; shift
  TUTTI_RANKS_PER_NODE=1 TUTTI_ALGO=allreduce:direct timeout 60 $B -g 4 --mem device -b 32K -e 32K -w 10 "$@" > $L/oop-$tag.txt 2>&1
  echo "oop $tag: $(awk '$1 ~ /^[0-9]+$/ {printf "%s:%s/%s ", $1, $6, $10}' $L/oop-$tag.txt)"
done
TUTTI_RANKS_PER_NODE=1 TUTTI_ALGO=allreduce:direct timeout 60 $B -g 4 --mem host -b 32K -e 32K -w 10 -n 100 -c 1 > $L/oop-host.txt 2>&1
echo "oop host: $(awk '$1 ~ /^[0-9]+$/ {printf "%s:%s/%s ", $1, $6, $10}' $L/oop-host.txt)"
for r in 1 2; do for m in device host; do
  TUTTI_RANKS_PER_NODE=2 timeout 60 $B -g 4 --mem $m -b 8 -e 32K -f 8 -w 10 -n 100 -c 1 > $L/small-$m-$r.txt 2>&1
  echo "small $m r$r: $(awk '$1 ~ /^[0-9]+$/ {printf "%s:%s/%s ", $1, $6, $10}' $L/small-$m-$r.txt)"
done; done
for i in 1 2 3 4; do
  t0=$SECONDS; TUTTI_TEST_UCX_ELEVEN_HOSTS=1 timeout 90 build-gpu/tests/multiproc/many_hosts_test --gtest_filter='*ucx_1*' > $L/many-$i.log 2>&1
  echo "many_hosts ucx_1 run $i rc $? ($((SECONDS-t0)) s) $(grep -cE 'Endpoint timeout' $L/many-$i.log) endpoint timeouts"
done
echo "end $(date -u '+%F %T') load $(cut -d' ' -f1-3 /proc/loadavg)"

