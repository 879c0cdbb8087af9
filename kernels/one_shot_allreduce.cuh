// One-shot AllReduce: each block pushes its slice of this rank's input into a slot of every
// peer's scratch, one barrier, then reduces the n slots from local memory in rank order (every
// rank computes bit-identical results). (n-1) S bytes out per rank, one barrier per slice.
#pragma once

#include "reduce_common.cuh"

namespace tutti {
namespace reduce_detail {

template <typename T, typename F>
__global__ void __launch_bounds__(kThreads) oneShotAllReduceKernel(GpuCollArgs a) {
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
    // Slot r of every peer (and of ourselves for PreMulSum: the scaled copy we reduce).
    if (threadIdx.x == 0)
      for (int p = 0, k = 0; p < n; ++p)
        if (p != r || a.premul) dsts[k++] = ch.peerSlot(p, r);
    __syncthreads();
    pushOwn<T>(a, dsts, a.premul ? n : n - 1, a.send + e0 * es, m);
    if (!ch.barrier()) return;
    if (threadIdx.x == 0) {
      for (int p = 0; p < n; ++p)
        srcs[p] = p == r ? ownSource(a, ch, a.send + e0 * es) : ch.ownSlot(p);
      dsts[0] = a.recv + e0 * es;
    }
    __syncthreads();
    blockReduce<T>(dsts, 1, srcs, n, m, f, a.divisor);
  }
  __syncthreads();
  if (threadIdx.x == 0) c.counters->iter[b] = iter;
  checkCallAtEnd(a);
}

TUTTI_REDUCE_LAUNCHER(OneShotAllReduce, oneShotAllReduceKernel)

}  // namespace reduce_detail
}  // namespace tutti
