// Two-shot AllReduce: each block cuts its slice into n shards; shard p of every rank goes to
// rank p (reduce-scatter by pushes), a barrier, rank p reduces its shard and pushes the result
// into every peer (all-gather), a second barrier, and every rank copies the n-1 shards it
// received into its output. 2 (n-1)/n S bytes out per rank, two barriers per slice.
#pragma once

#include "reduce_common.cuh"

namespace tutti {
namespace reduce_detail {

template <typename T, typename F>
__global__ void __launch_bounds__(kThreads) twoShotAllReduceKernel(GpuCollArgs a) {
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
    // 2n slots: [0, n) incoming contributions to our shard, [n, 2n) reduced shards of peers.
    const BlockChannels ch{c, b, static_cast<int>(iter & 1),
                           scratchSlotBytes(c.regionBytes, 2 * n)};
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
      pushOwnTo<T>(a, ch.peerSlot(p, r), a.send + (e0 + shardStart(p)) * es, shardLen(p));
    }
    if (!ch.barrier()) return;
    if (threadIdx.x == 0) {
      for (int p = 0; p < n; ++p)
        srcs[p] = p == r ? ownSource(a, ch, a.send + (e0 + shardStart(r)) * es) : ch.ownSlot(p);
      dsts[0] = a.recv + (e0 + shardStart(r)) * es;
      for (int p = 0, k = 1; p < n; ++p)
        if (p != r) dsts[k++] = ch.peerSlot(p, n + r);
    }
    __syncthreads();
    blockReduce<T>(dsts, n, srcs, n, shardLen(r), f, a.divisor);
    if (!ch.barrier()) return;
    for (int p = 0; p < n; ++p) {
      if (p == r) continue;
      ch.put(a.recv + (e0 + shardStart(p)) * es, ch.ownSlot(n + p), shardLen(p) * es);
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) c.counters->iter[b] = iter;
  checkCallAtEnd(a);
}

TUTTI_REDUCE_LAUNCHER(TwoShotAllReduce, twoShotAllReduceKernel)

}  // namespace reduce_detail
}  // namespace tutti
