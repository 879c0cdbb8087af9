#!/usr/bin/env bash
# Runs tests/frameworks/torch_shim_test.py under torchrun on 2 and 4 GPUs (those that exist)
# with Tutti's libnccl.so.2 in place of NVIDIA's. Usage, from the repository root:
#   tests/frameworks/run_torch_shim.sh [path/to/shim/libnccl.so.2] [nproc ...]
# Default shim: build-gpu/src/shim/libnccl.so.2; default process counts: 2 4.
#
# Why LD_PRELOAD and not only LD_LIBRARY_PATH: libtorch_cuda.so carries an RPATH (not a
# RUNPATH) to site-packages/nvidia/nccl/lib, and RPATH is searched before LD_LIBRARY_PATH;
# torch/__init__.py also dlopens that wheel's libnccl.so.2 by full path (_preload_cuda_deps).
# A preloaded library whose SONAME is libnccl.so.2 satisfies libtorch_cuda.so's NEEDED entry
# and heads the global symbol scope, so every ncclXxx torch calls binds to the shim; NVIDIA's
# copy may still be mapped (loaded RTLD_LOCAL by path) but is never called. The test checks
# exactly that. docs/nccl-compat.md explains it at length.
set -euo pipefail
cd "$(dirname "$0")/../.."
shim=$(realpath "${1:-build-gpu/src/shim/libnccl.so.2}")
shift || true
nprocs=("$@")
[ ${#nprocs[@]} -eq 0 ] && nprocs=(2 4)
[ -f "$shim" ] || { echo "no shim at $shim (build with cmake first)"; exit 2; }
gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
status=0
for n in "${nprocs[@]}"; do
  share=()
  if [ "$gpus" -eq 0 ]; then
    echo "== skipping $n ranks: no GPU here"
    continue
  elif [ "$n" -gt "$gpus" ]; then
    # Ranks share GPUs (rank r on GPU r % gpus): checks the results, not the speed.
    echo "== $n ranks on $gpus GPU(s): ranks share GPUs (TUTTI_ALLOW_SHARED_GPU=1)"
    share=(TUTTI_ALLOW_SHARED_GPU=1)
  fi
  echo "== torchrun --nproc-per-node=$n with LD_PRELOAD=$shim"
  # NCCL_NVLS_ENABLE=0 keeps NVIDIA's library (never called here) away from multicast too.
  if ! env LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}" \
      LD_LIBRARY_PATH="$(dirname "$shim")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      TUTTI_SHIM_LIB="$shim" NCCL_NVLS_ENABLE=0 OMP_NUM_THREADS=1 ${share[@]+"${share[@]}"} \
      torchrun --standalone --nproc-per-node="$n" tests/frameworks/torch_shim_test.py; then
    status=1
  fi
done
exit $status
