// AllGather: each block stores its slice of this rank's block into slot r of every peer's
// scratch (one read, n-1 remote writes) and into its own output block, one barrier, then copies
// the n-1 slices it received into the output. (n-1) S_rank out per rank.
#include "call_check.cuh"
#include "device_channel.cuh"
#include "launch.h"

namespace tutti {
namespace {

__global__ void __launch_bounds__(kThreads) allGatherKernel(GpuCollArgs a) {
  const DeviceComm& c = *a.comm;
  checkCall(a);
  const int n = c.nranks, r = c.rank, b = blockIdx.x;
  const size_t bytes = a.count * a.elemSize;  // per-rank block
  const size_t S = a.sliceElems * a.elemSize;
  __shared__ char* dsts[kMaxGpuRanks + 1];
  __shared__ int ndst;
  uint64_t iter = c.counters->iter[b];
  for (size_t o = static_cast<size_t>(b) * S; o < bytes;
       o += static_cast<size_t>(gridDim.x) * S, ++iter) {
    const size_t m = bytes - o < S ? bytes - o : S;
    const BlockChannels ch{c, b, static_cast<int>(iter & 1), scratchSlotBytes(c.regionBytes, n)};
    char* local = a.recv + r * bytes + o;
    if (threadIdx.x == 0) {
      int k = 0;
      for (int p = 0; p < n; ++p)
        if (p != r) dsts[k++] = ch.peerSlot(p, r);
      if (local != a.send + o) dsts[k++] = local;  // not in place: our own block too
      ndst = k;
    }
    __syncthreads();
    ch.putMulti(dsts, ndst, a.send + o, m);
    if (!ch.barrier()) return;
    for (int p = 0; p < n; ++p)
      if (p != r) ch.put(a.recv + p * bytes + o, ch.ownSlot(p), m);
  }
  __syncthreads();
  if (threadIdx.x == 0) c.counters->iter[b] = iter;
  checkCallAtEnd(a);
}

}  // namespace

cudaError_t launchAllGather(const GpuCollArgs& a, cudaStream_t stream) {
  if (a.blocks == 0) {  // load only (preloadCollectiveKernels)
    cudaFuncAttributes at;
    return cudaFuncGetAttributes(&at, allGatherKernel);
  }
  allGatherKernel<<<a.blocks, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace tutti
