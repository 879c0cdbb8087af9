#!/usr/bin/env bash
# One call on the GPU machine: build, then the stages in $STAGES, each with its own time limit,
# logs collected under $OUT after every stage (so a call cut short still returns what ran),
# and a short summary last.
#   STAGES      default "build bench tests shim symm collectives"
#   BENCH_ARGS  perf sweep (default: -b 8 -e 1G -f 8)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
LOG=$(mktemp -d)
mkdir -p "$OUT"
STAGES=${STAGES:-"build bench tests shim symm collectives"}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export TUTTI_TIMEOUT_MS=${TUTTI_TIMEOUT_MS:-60000}
NGPU=$(nvidia-smi -L | grep -c '^GPU')
NCCL_LIB=${NCCL_LIB:-$(python3 -c "import nvidia.nccl,os;print(list(nvidia.nccl.__path__)[0])" 2>/dev/null)/lib/libnccl.so.2}
export NCCL_LIB
BENCH_ARGS=${BENCH_ARGS:-"-b 8 -e 1G -f 8"}

{
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nvcc --version | tail -2
  echo "NCCL_LIB=$NCCL_LIB"
  python3 -c "import torch;print('torch', torch.__version__, 'nccl', torch.cuda.nccl.version())" 2>/dev/null
  nvidia-smi topo -m
} > "$LOG/machine.txt" 2>&1
head -3 "$LOG/machine.txt"
echo "summary ($NGPU GPUs)" > "$LOG/summary.txt"

save() { cp "$LOG/summary.txt" "$OUT/"; tar czf "$OUT/logs.tgz" -C "$LOG" . 2>/dev/null; }
# stage NAME SECONDS COMMAND...: runs with a time limit, records rc and duration.
stage() {
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$LOG/$name.log" 2>&1
  local rc=$?
  echo "$name: rc=$rc ($((SECONDS - t0)) s) $(grep -hE '^\[  PASSED|^\[  FAILED  \] [0-9]+ test' "$LOG/$name.log" | tr '\n' ' ')" >> "$LOG/summary.txt"
  tail -1 "$LOG/summary.txt"
  save
  return $rc
}
want() { [[ " $STAGES " == *" $1 "* ]]; }

if want build; then
  cmake -S . -B build-gpu -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release \
    -DNCCL_INCLUDE_DIR="$(dirname "$NCCL_LIB")/../include" > "$LOG/configure.log" 2>&1
  # Keep going past a broken optional target so one failure does not waste the machine.
  stage build 240 ninja -C build-gpu -k 0
  grep -A3 "^FAILED" "$LOG/build.log" | grep -E "error|FAILED" | head -6
  [ -x build-gpu/perf/all_reduce_perf ] || { echo "BUILD FAILED"; grep -B2 -A6 error "$LOG/build.log" | head -40; exit 1; }
fi
if want bench; then
  colls=(--coll all_reduce --coll all_gather --coll reduce_scatter --coll alltoall)
  stage bench 150 python3 perf/compare "${colls[@]}" --np "$NGPU" --mem device --nccl "$NCCL_LIB" \
    --bin-dir build-gpu/perf --out "$LOG/compare" $BENCH_ARGS
  cp "$LOG"/compare/compare.json "$LOG"/compare/*.png "$OUT/" 2>/dev/null
fi
if want tests; then
  stage gpu_faults 45 build-gpu/tests/gpu/gpu_faults_test
  stage gpu_graph 40 build-gpu/tests/gpu/gpu_graph_test
  stage gpu_single_process 40 build-gpu/tests/gpu/gpu_single_process_test
fi
if want shim; then
  stage torch_shim 90 tests/frameworks/run_torch_shim.sh build-gpu/src/shim/libnccl.so.2 "$NGPU"
fi
if want symm; then
  stage symm_mem 60 torchrun --nproc-per-node "$NGPU" perf/symm_mem_bench.py --sizes 8,1M,4M,16M
  stage graph_perf 60 python3 perf/compare --coll all_reduce --np "$NGPU" --mem device --nccl "$NCCL_LIB" \
    --bin-dir build-gpu/perf --out "$LOG/graph" -b 8 -e 16M -f 8 -G 10 -n 20
fi
if want collectives; then
  stage gpu_collectives 120 build-gpu/tests/gpu/gpu_collectives_test --gtest_filter="*${NGPU}gpus"
fi
echo
cat "$LOG/summary.txt"
for f in bench graph_perf symm_mem torch_shim; do
  [ -f "$LOG/$f.log" ] && { echo "--- $f"; grep -E '^\|' "$LOG/$f.log" | head -60; }
done
