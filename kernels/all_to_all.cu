// AllToAll: block p of this rank's input goes to slot r of rank p's scratch, pushed in the
// order r+1, r+2, ... so that every step is a permutation (no GPU receives from all senders at
// once), one barrier, then every rank copies the n-1 slices it received into its output.
// (n-1)/n S out per rank.
#include "call_check.cuh"
#include "device_channel.cuh"
#include "launch.h"

namespace tutti {
namespace {

__global__ void __launch_bounds__(kThreads) allToAllKernel(GpuCollArgs a) {
  const DeviceComm& c = *a.comm;
  checkCall(a);
  const int n = c.nranks, r = c.rank, b = blockIdx.x;
  const size_t bytes = a.count * a.elemSize;  // per-peer block
  const size_t S = a.sliceElems * a.elemSize;
  uint64_t iter = c.counters->iter[b];
  for (size_t o = static_cast<size_t>(b) * S; o < bytes;
       o += static_cast<size_t>(gridDim.x) * S, ++iter) {
    const size_t m = bytes - o < S ? bytes - o : S;
    const BlockChannels ch{c, b, static_cast<int>(iter & 1), scratchSlotBytes(c.regionBytes, n)};
    for (int k = 1; k < n; ++k) {
      const int p = (r + k) % n;
      ch.put(ch.peerSlot(p, r), a.send + p * bytes + o, m);
    }
    if (a.send != a.recv) ch.put(a.recv + r * bytes + o, a.send + r * bytes + o, m);
    if (!ch.barrier()) return;
    for (int p = 0; p < n; ++p)
      if (p != r) ch.put(a.recv + p * bytes + o, ch.ownSlot(p), m);
  }
  __syncthreads();
  if (threadIdx.x == 0) c.counters->iter[b] = iter;
  checkCallAtEnd(a);
}

}  // namespace

cudaError_t launchAllToAll(const GpuCollArgs& a, cudaStream_t stream) {
  if (a.blocks == 0) {  // load only (preloadCollectiveKernels)
    cudaFuncAttributes at;
    return cudaFuncGetAttributes(&at, allToAllKernel);
  }
  allToAllKernel<<<a.blocks, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace tutti
