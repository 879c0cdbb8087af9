// What the reduction kernels share: pushing this rank's contribution (scaled for PreMulSum) and
// finding it again for the local reduction, plus the instantiation of one kernel template for
// every combine.
#pragma once

#include "call_check.cuh"
#include "device_channel.cuh"
#include "launch.h"

namespace tutti {
namespace reduce_detail {

// Sends this rank's contribution to dsts[0..ndst): its bytes, or for PreMulSum its elements
// scaled by this rank's scalar. dsts lives in shared memory.
template <typename T>
__device__ __forceinline__ void pushOwn(const GpuCollArgs& a, char* const* dsts, int ndst,
                                        const char* src, size_t elems) {
  if (a.premul)
    blockScaleCopyMulti<T>(dsts, ndst, src, elems, a.scalar);
  else
    blockCopyMulti(dsts, ndst, src, elems * sizeof(T));
}

template <typename T>
__device__ __forceinline__ void pushOwnTo(const GpuCollArgs& a, char* dst, const char* src,
                                          size_t elems) {
  __shared__ char* one[1];
  if (threadIdx.x == 0) one[0] = dst;
  __syncthreads();
  pushOwn<T>(a, one, 1, src, elems);
}

// Without PreMulSum the reduction reads this rank's own contribution straight from its input;
// with it, from the scaled copy pushOwn left in the rank's own slot of its scratch.
__device__ __forceinline__ const char* ownSource(const GpuCollArgs& a, const BlockChannels& ch,
                                                 const char* input) {
  return a.premul ? ch.ownSlot(ch.rank()) : input;
}

}  // namespace reduce_detail

// Defines `launch<Name>Typed<T>`: `Kernel<T, F>` launched for the combine `k`; with
// a.blocks == 0 it only loads the four kernels (preloadCollectiveKernels).
#define TUTTI_REDUCE_LAUNCHER(Name, Kernel)                                                      \
  template <typename T>                                                                          \
  cudaError_t launch##Name##Typed(const GpuCollArgs& a, CombineKind k, cudaStream_t stream) {    \
    if (a.blocks == 0) {                                                                         \
      cudaFuncAttributes at;                                                                     \
      cudaFuncGetAttributes(&at, Kernel<T, FuncSum>);                                            \
      cudaFuncGetAttributes(&at, Kernel<T, FuncProd>);                                           \
      cudaFuncGetAttributes(&at, Kernel<T, FuncMax>);                                            \
      cudaFuncGetAttributes(&at, Kernel<T, FuncMin>);                                            \
      return cudaGetLastError();                                                                 \
    }                                                                                            \
    switch (k) {                                                                                 \
      case CombineKind::kSum: Kernel<T, FuncSum><<<a.blocks, kThreads, 0, stream>>>(a); break;   \
      case CombineKind::kProd: Kernel<T, FuncProd><<<a.blocks, kThreads, 0, stream>>>(a); break; \
      case CombineKind::kMax: Kernel<T, FuncMax><<<a.blocks, kThreads, 0, stream>>>(a); break;   \
      case CombineKind::kMin: Kernel<T, FuncMin><<<a.blocks, kThreads, 0, stream>>>(a); break;   \
    }                                                                                            \
    return cudaGetLastError();                                                                   \
  }

}  // namespace tutti
