#!/usr/bin/env bash
# One call on the GPU machine: build, GPU tests, and Tutti-vs-NCCL benchmarks, logs to $OUT
# and a short table last. Stages: STAGES="build test bench sanitize" (default: build test bench).
#   GPU_TEST_FILTER  gtest filter for the GPU tests (default: all)
#   BENCH_COLLS      perf/compare collectives (default: all_reduce all_gather reduce_scatter alltoall)
#   BENCH_ARGS       extra perf arguments (default: -b 8 -e 1G -f 2)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
LOG=$(mktemp -d)   # everything goes here; $OUT gets one tarball plus the key results
mkdir -p "$OUT"
STAGES=${STAGES:-"build test bench"}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
NGPU=$(nvidia-smi -L | grep -c '^GPU')
NCCL_LIB=${NCCL_LIB:-$(python3 -c "import nvidia.nccl,os;print(list(nvidia.nccl.__path__)[0])" 2>/dev/null)/lib/libnccl.so.2}
export NCCL_LIB
summary=()
note() { summary+=("$*"); echo "== $*"; }

{
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nvcc --version | tail -2
  echo "NCCL_LIB=$NCCL_LIB"
  python3 -c "import torch;print('torch', torch.__version__, 'nccl', torch.cuda.nccl.version())" 2>/dev/null
  nvidia-smi topo -m
} > "$LOG/machine.txt" 2>&1
head -4 "$LOG/machine.txt"

if [[ " $STAGES " == *" build "* ]]; then
  t0=$SECONDS
  # NCCL 2.28.9's header sits beside the pip wheel's library (the toolkit's may be older).
  cmake -S . -B build-gpu -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release \
    -DNCCL_INCLUDE_DIR="$(dirname "$NCCL_LIB")/../include" > "$LOG/build.log" 2>&1
  # Keep going past a broken optional target so one failure does not waste the machine.
  ninja -C build-gpu -k 0 >> "$LOG/build.log" 2>&1
  if [ -x build-gpu/tests/gpu/gpu_collectives_test ] && [ -x build-gpu/perf/all_reduce_perf ]; then
    note "build ok ($((SECONDS - t0)) s)$(grep -q FAILED "$LOG/build.log" && echo ', some targets FAILED')"
    grep -A3 "^FAILED" "$LOG/build.log" | grep -E "error|FAILED" | head -8
  else
    note "BUILD FAILED"; grep -B2 -A6 "error" "$LOG/build.log" | head -60; exit 1
  fi
fi

if [[ " $STAGES " == *" test "* ]]; then
  export TUTTI_TIMEOUT_MS=${TUTTI_TIMEOUT_MS:-60000}  # a hang costs one minute, not five
  for t in gpu_faults_test gpu_graph_test gpu_single_process_test gpu_collectives_test; do
    t0=$SECONDS
    TUTTI_TIMEOUT_MS=60000 timeout 420 build-gpu/tests/gpu/$t --gtest_filter="${GPU_TEST_FILTER:-*}" > "$LOG/$t.log" 2>&1
    rc=$?
    pass=$(grep -c '^\[       OK' "$LOG/$t.log"); fail=$(grep -c '^\[  FAILED  \].*ms)' "$LOG/$t.log")
    note "$t: rc=$rc passed=$pass failed=$fail ($((SECONDS - t0)) s)"
    [ $rc -ne 0 ] && grep -E "Failure|rank [0-9]+:|FAILED" "$LOG/$t.log" | head -12
  done
fi

if [[ " $STAGES " == *" sanitize "* ]]; then
  for tool in memcheck racecheck; do
    timeout 300 compute-sanitizer --tool $tool --target-processes all --error-exitcode 9 \
      build-gpu/perf/all_reduce_perf --np 2 --mem device -b 8 -e 4M -f 16 -n 2 -w 1 \
      > "$LOG/sanitize-$tool.log" 2>&1
    note "compute-sanitizer $tool on 2 GPUs: rc=$? $(grep -E 'ERROR SUMMARY' "$LOG/sanitize-$tool.log" | sort | uniq -c | tr -s ' ' | head -2 | tr '\n' ';')"
  done
fi

if [[ " $STAGES " == *" bench "* ]]; then
  colls=${BENCH_COLLS:-"all_reduce all_gather reduce_scatter alltoall"}
  args=${BENCH_ARGS:-"-b 8 -e 1G -f 2"}
  cargs=()
  for c in $colls; do cargs+=(--coll "$c"); done
  timeout 500 python3 perf/compare "${cargs[@]}" --np "$NGPU" --mem device --nccl "$NCCL_LIB" \
    --bin-dir build-gpu/perf --out "$LOG/compare" $args > "$LOG/compare.log" 2>&1
  note "perf/compare rc=$?"
  cat "$LOG/compare.log" | tail -80
fi

cp "$LOG"/compare/compare.json "$OUT/" 2>/dev/null
cp "$LOG"/compare/*.png "$OUT/" 2>/dev/null
tar czf "$OUT/logs.tgz" -C "$LOG" . 2>/dev/null
echo
echo "==================== summary ($NGPU GPUs) ===================="
printf '%s\n' "${summary[@]}"
