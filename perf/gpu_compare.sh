#!/usr/bin/env bash
# On a GPU machine: builds Tutti and the perf binaries, then compares Tutti with NVIDIA's NCCL
# (AllReduce by default) through perf/compare, one process per GPU, device memory.
#
# Environment: BUILD_DIR (build-gpu), COLLS ("all_reduce"; e.g. "all_reduce all_gather"),
# NP (number of GPUs), MIN (8), MAX (1G), NCCL_LIB (default: the pip nvidia-nccl package),
# OUT (perf-compare). Extra arguments go to perf/compare and the binaries (e.g. -G 10 -c 0).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${BUILD_DIR:-build-gpu}"
COLLS="${COLLS:-all_reduce}"
MIN="${MIN:-8}"
MAX="${MAX:-1G}"
OUT="${OUT:-perf-compare}"
export NCCL_NVLS_ENABLE=0  # never NVLink multicast on the shared boxes

if [[ -z "${NCCL_LIB:-}" ]]; then
  nccl_dir="$(python3 -c 'import nvidia.nccl, os; print(list(nvidia.nccl.__path__)[0])')"
  NCCL_LIB="$nccl_dir/lib/libnccl.so.2"
fi
NP="${NP:-$(nvidia-smi -L | wc -l)}"

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DTUTTI_BUILD_TESTS=OFF \
  >"$BUILD_DIR.configure.log" 2>&1 || { tail -30 "$BUILD_DIR.configure.log"; exit 1; }
cmake --build "$BUILD_DIR" -j "$(nproc)" --target all_reduce_perf all_gather_perf \
  reduce_scatter_perf alltoall_perf broadcast_perf reduce_perf sendrecv_perf \
  >"$BUILD_DIR.build.log" 2>&1 ||
  { grep -E "error|FAILED" "$BUILD_DIR.build.log" | head -30; exit 1; }

colls=()
for c in $COLLS; do colls+=(--coll "$c"); done
python3 perf/compare "${colls[@]}" --bin-dir "$BUILD_DIR/perf" --np "$NP" --mem device \
  --nccl "$NCCL_LIB" --out "$OUT" -b "$MIN" -e "$MAX" -f 2 "$@"
