// ReduceScatter: block p of each rank's input goes to rank p (pushes in ring order), a barrier,
// and every rank reduces the n pieces of its own block in rank order. (n-1)/n S out per rank.
#pragma once

#include "reduce_common.cuh"

namespace tutti {
namespace reduce_detail {

template <typename T, typename F>
__global__ void __launch_bounds__(kThreads) reduceScatterKernel(GpuCollArgs a) {
  const DeviceComm& c = *a.comm;
  checkCall(a);
  const int n = c.nranks, r = c.rank, b = blockIdx.x;
  const size_t es = sizeof(T), S = a.sliceElems;
  __shared__ char* dsts[kMaxGpuRanks + 1];
  __shared__ const char* srcs[kMaxGpuRanks];
  uint64_t iter = c.counters->iter[b];
  F f;
  for (size_t e0 = static_cast<size_t>(b) * S; e0 < a.count;
       e0 += static_cast<size_t>(gridDim.x) * S, ++iter) {
    const size_t m = a.count - e0 < S ? a.count - e0 : S;
    const BlockChannels ch{c, b, static_cast<int>(iter & 1), scratchSlotBytes(c.regionBytes, n)};
    for (int k = a.premul ? 0 : 1; k < n; ++k) {  // peers r+1, r+2, ... (see two-shot)
      const int p = (r + k) % n;
      pushOwnTo<T>(a, ch.peerSlot(p, r), a.send + (p * a.count + e0) * es, m);
    }
    if (!ch.barrier()) return;
    if (threadIdx.x == 0) {
      for (int p = 0; p < n; ++p)
        srcs[p] = p == r ? ownSource(a, ch, a.send + (r * a.count + e0) * es) : ch.ownSlot(p);
      dsts[0] = a.recv + e0 * es;
    }
    __syncthreads();
    blockReduce<T>(dsts, 1, srcs, n, m, f, a.divisor);
  }
  __syncthreads();
  if (threadIdx.x == 0) c.counters->iter[b] = iter;
  checkCallAtEnd(a);
}

TUTTI_REDUCE_LAUNCHER(ReduceScatter, reduceScatterKernel)

}  // namespace reduce_detail
}  // namespace tutti
