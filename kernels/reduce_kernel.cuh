// Reduction collectives on a fully connected node (every peer's scratch mapped): AllReduce
// one-shot and two-shot, ReduceScatter and Reduce. Data is pushed into peers' scratch with
// remote stores, then reduced from local memory in rank order (bit-identical on every rank).
// The kernel template lives here; reduce_kernels_*.cu instantiate it per dtype family so the
// 48 (dtype, op) kernels compile in parallel.
#pragma once

#include "device_copy.cuh"
#include "device_sync.cuh"
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
__device__ __forceinline__ const char* ownSource(const GpuCollArgs& a, const DeviceComm& c, int b,
                                                 int par, size_t slotBytes, const char* input) {
  return a.premul ? slotPtr(c, c.rank, b, par, c.rank, slotBytes) : input;
}

template <typename T, typename F>
__global__ void __launch_bounds__(kThreads) reduceKernel(GpuCollArgs a) {
  const DeviceComm& c = *a.comm;
  const int n = c.nranks, r = c.rank, b = blockIdx.x;
  const size_t es = sizeof(T);
  const bool twoShot = a.mode == GpuMode::kAllReduceTwoShot;
  const size_t slotBytes = scratchSlotBytes(c.regionBytes, twoShot ? 2 * n : n);
  const size_t S = a.sliceElems;
  __shared__ char* dsts[kMaxGpuRanks + 1];
  __shared__ const char* srcs[kMaxGpuRanks];
  uint64_t iter = c.counters->iter[b];
  F f;
  for (size_t e0 = static_cast<size_t>(b) * S; e0 < a.count;
       e0 += static_cast<size_t>(gridDim.x) * S, ++iter) {
    const size_t m = a.count - e0 < S ? a.count - e0 : S;
    const int par = static_cast<int>(iter & 1);
    if (a.mode == GpuMode::kAllReduceOneShot) {
      if (threadIdx.x == 0)
        for (int p = 0, k = 0; p < n; ++p)
          if (p != r || a.premul) dsts[k++] = slotPtr(c, p, b, par, r, slotBytes);
      __syncthreads();
      pushOwn<T>(a, dsts, a.premul ? n : n - 1, a.send + e0 * es, m);
      if (!blockBarrier(c, b)) return;
      if (threadIdx.x == 0) {
        for (int p = 0; p < n; ++p)
          srcs[p] = p == r ? ownSource(a, c, b, par, slotBytes, a.send + e0 * es)
                           : slotPtr(c, r, b, par, p, slotBytes);
        dsts[0] = a.recv + e0 * es;
      }
      __syncthreads();
      blockReduce<T>(dsts, 1, srcs, n, m, f, a.divisor);
    } else if (twoShot) {
      constexpr size_t kPack = 16 / sizeof(T);
      size_t sh = (m + n - 1) / n;
      sh = (sh + kPack - 1) / kPack * kPack;
      auto shardStart = [&](int p) {
        size_t s = p * sh;
        return s < m ? s : m;
      };
      auto shardLen = [&](int p) { return shardStart(p + 1) - shardStart(p); };
      // Peers in the order r+1, r+2, ...: at each step every rank feeds a different peer, so
      // no GPU's inbound links take n-1 senders while others idle.
      for (int k = a.premul ? 0 : 1; k < n; ++k) {
        const int p = (r + k) % n;
        pushOwnTo<T>(a, slotPtr(c, p, b, par, r, slotBytes), a.send + (e0 + shardStart(p)) * es,
                     shardLen(p));
      }
      if (!blockBarrier(c, b)) return;
      if (threadIdx.x == 0) {
        for (int p = 0; p < n; ++p)
          srcs[p] = p == r ? ownSource(a, c, b, par, slotBytes, a.send + (e0 + shardStart(r)) * es)
                           : slotPtr(c, r, b, par, p, slotBytes);
        dsts[0] = a.recv + (e0 + shardStart(r)) * es;
        for (int p = 0, k = 1; p < n; ++p)
          if (p != r) dsts[k++] = slotPtr(c, p, b, par, n + r, slotBytes);
      }
      __syncthreads();
      blockReduce<T>(dsts, n, srcs, n, shardLen(r), f, a.divisor);
      if (!blockBarrier(c, b)) return;
      for (int p = 0; p < n; ++p) {
        if (p == r) continue;
        blockCopy(a.recv + (e0 + shardStart(p)) * es, slotPtr(c, r, b, par, n + p, slotBytes),
                  shardLen(p) * es);
      }
    } else if (a.mode == GpuMode::kReduceScatter) {
      // Block p of the input goes to rank p; we reduce the pieces of block r.
      for (int k = a.premul ? 0 : 1; k < n; ++k) {  // peers r+1, r+2, ... (see two-shot)
        const int p = (r + k) % n;
        pushOwnTo<T>(a, slotPtr(c, p, b, par, r, slotBytes), a.send + (p * a.count + e0) * es, m);
      }
      if (!blockBarrier(c, b)) return;
      if (threadIdx.x == 0) {
        for (int p = 0; p < n; ++p)
          srcs[p] = p == r ? ownSource(a, c, b, par, slotBytes, a.send + (r * a.count + e0) * es)
                           : slotPtr(c, r, b, par, p, slotBytes);
        dsts[0] = a.recv + e0 * es;
      }
      __syncthreads();
      blockReduce<T>(dsts, 1, srcs, n, m, f, a.divisor);
    } else {  // kReduce: everyone pushes to the root, the root reduces
      if (r != a.root || a.premul)
        pushOwnTo<T>(a, slotPtr(c, a.root, b, par, r, slotBytes), a.send + e0 * es, m);
      if (!blockBarrier(c, b)) return;
      if (r == a.root) {
        if (threadIdx.x == 0) {
          for (int p = 0; p < n; ++p)
            srcs[p] = p == r ? ownSource(a, c, b, par, slotBytes, a.send + e0 * es)
                             : slotPtr(c, r, b, par, p, slotBytes);
          dsts[0] = a.recv + e0 * es;
        }
        __syncthreads();
        blockReduce<T>(dsts, 1, srcs, n, m, f, a.divisor);
      }
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) c.counters->iter[b] = iter;
}

template <typename T>
cudaError_t launchTyped(const GpuCollArgs& a, CombineKind combine, cudaStream_t stream) {
  dim3 grid(a.blocks), block(kThreads);
  switch (combine) {
    case CombineKind::kSum: reduceKernel<T, FuncSum><<<grid, block, 0, stream>>>(a); break;
    case CombineKind::kProd: reduceKernel<T, FuncProd><<<grid, block, 0, stream>>>(a); break;
    case CombineKind::kMax: reduceKernel<T, FuncMax><<<grid, block, 0, stream>>>(a); break;
    case CombineKind::kMin: reduceKernel<T, FuncMin><<<grid, block, 0, stream>>>(a); break;
  }
  return cudaGetLastError();
}

}  // namespace reduce_detail
}  // namespace tutti
