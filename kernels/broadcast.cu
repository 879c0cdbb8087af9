// Broadcast: the root's blocks store their slices into slot `root` of every peer's scratch (and
// into the root's output when not in place), one barrier, then every other rank copies the
// slice into its output. (n-1) S out at the root.
#include "call_check.cuh"
#include "device_channel.cuh"
#include "launch.h"

namespace tutti {
namespace {

__global__ void __launch_bounds__(kThreads) broadcastKernel(GpuCollArgs a) {
  const DeviceComm& c = *a.comm;
  checkCall(a);
  const int n = c.nranks, r = c.rank, b = blockIdx.x;
  const size_t bytes = a.count * a.elemSize;
  const size_t S = a.sliceElems * a.elemSize;
  __shared__ char* dsts[kMaxGpuRanks + 1];
  __shared__ int ndst;
  uint64_t iter = c.counters->iter[b];
  for (size_t o = static_cast<size_t>(b) * S; o < bytes;
       o += static_cast<size_t>(gridDim.x) * S, ++iter) {
    const size_t m = bytes - o < S ? bytes - o : S;
    const BlockChannels ch{c, b, static_cast<int>(iter & 1), scratchSlotBytes(c.regionBytes, n)};
    if (r == a.root) {
      if (threadIdx.x == 0) {
        int k = 0;
        for (int p = 0; p < n; ++p)
          if (p != r) dsts[k++] = ch.peerSlot(p, a.root);
        if (a.recv + o != a.send + o) dsts[k++] = a.recv + o;  // not in place
        ndst = k;
      }
      __syncthreads();
      ch.putMulti(dsts, ndst, a.send + o, m);
    }
    if (!ch.barrier()) return;
    if (r != a.root) ch.put(a.recv + o, ch.ownSlot(a.root), m);
  }
  __syncthreads();
  if (threadIdx.x == 0) c.counters->iter[b] = iter;
  checkCallAtEnd(a);
}

}  // namespace

cudaError_t launchBroadcast(const GpuCollArgs& a, cudaStream_t stream) {
  if (a.blocks == 0) {  // load only (preloadCollectiveKernels)
    cudaFuncAttributes at;
    return cudaFuncGetAttributes(&at, broadcastKernel);
  }
  broadcastKernel<<<a.blocks, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace tutti
