// Data-movement collectives on a fully connected node: AllGather, AllToAll and Broadcast push
// slices into peers' scratch with remote stores; after one barrier each rank copies what it
// received into the output.
#include "device_copy.cuh"
#include "device_sync.cuh"
#include "launch.h"

namespace tutti {
namespace {

__global__ void __launch_bounds__(kThreads) copyKernel(GpuCollArgs a) {
  const DeviceComm& c = *a.comm;
  const int n = c.nranks, r = c.rank, b = blockIdx.x;
  const size_t slotBytes = scratchSlotBytes(c.regionBytes, n);
  const size_t bytes = a.count * a.elemSize;  // per-rank block (total for Broadcast)
  const size_t S = a.sliceElems * a.elemSize;
  __shared__ char* dsts[kMaxGpuRanks + 1];
  __shared__ int ndst;
  uint64_t iter = c.counters->iter[b];
  for (size_t o = static_cast<size_t>(b) * S; o < bytes;
       o += static_cast<size_t>(gridDim.x) * S, ++iter) {
    const size_t m = bytes - o < S ? bytes - o : S;
    const int par = static_cast<int>(iter & 1);
    if (a.mode == GpuMode::kAllGather || a.mode == GpuMode::kBroadcast) {
      const bool pushes = a.mode == GpuMode::kAllGather || r == a.root;
      const int slot = a.mode == GpuMode::kAllGather ? r : a.root;
      char* local = a.recv + (a.mode == GpuMode::kAllGather ? r * bytes : 0) + o;
      if (threadIdx.x == 0 && pushes) {
        int k = 0;
        for (int p = 0; p < n; ++p)
          if (p != r) dsts[k++] = slotPtr(c, p, b, par, slot, slotBytes);
        if (local != a.send + o) dsts[k++] = local;  // not in place: our own block too
        ndst = k;
      }
      __syncthreads();
      if (pushes) blockCopyMulti(dsts, ndst, a.send + o, m);
      if (!blockBarrier(c, b)) return;
      for (int p = 0; p < n; ++p) {
        if (p == r) continue;
        if (a.mode == GpuMode::kAllGather)
          blockCopy(a.recv + p * bytes + o, slotPtr(c, r, b, par, p, slotBytes), m);
        else if (p == a.root)
          blockCopy(a.recv + o, slotPtr(c, r, b, par, p, slotBytes), m);
      }
    } else {  // kAllToAll: block p of our input goes to rank p's slot r
      // Peers in the order r+1, r+2, ...: each step is a permutation, so every GPU receives
      // from one sender at a time instead of all ranks pushing to rank 0 first.
      for (int k = 1; k < n; ++k) {
        const int p = (r + k) % n;
        blockCopy(slotPtr(c, p, b, par, r, slotBytes), a.send + p * bytes + o, m);
      }
      if (a.send != a.recv) blockCopy(a.recv + r * bytes + o, a.send + r * bytes + o, m);
      if (!blockBarrier(c, b)) return;
      for (int p = 0; p < n; ++p)
        if (p != r) blockCopy(a.recv + p * bytes + o, slotPtr(c, r, b, par, p, slotBytes), m);
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) c.counters->iter[b] = iter;
}

}  // namespace

cudaError_t launchCopyKernel(const GpuCollArgs& a, cudaStream_t stream) {
  copyKernel<<<a.blocks, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace tutti
