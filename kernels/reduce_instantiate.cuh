// Instantiates every reduction algorithm's launcher for one dtype (reduce_kernels_*.cu split
// the dtypes into families so that their kernels compile in parallel).
#pragma once

#include "one_shot_allreduce.cuh"
#include "reduce.cuh"
#include "reduce_scatter.cuh"
#include "two_shot_allreduce.cuh"

#define TUTTI_INSTANTIATE_REDUCTIONS(T)                                                            \
  template cudaError_t launchOneShotAllReduceTyped<T>(const GpuCollArgs&, CombineKind,             \
                                                      cudaStream_t);                               \
  template cudaError_t launchTwoShotAllReduceTyped<T>(const GpuCollArgs&, CombineKind,             \
                                                      cudaStream_t);                               \
  template cudaError_t launchReduceScatterTyped<T>(const GpuCollArgs&, CombineKind, cudaStream_t); \
  template cudaError_t launchReduceTyped<T>(const GpuCollArgs&, CombineKind, cudaStream_t);
