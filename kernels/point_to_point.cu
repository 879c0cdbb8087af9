// Point-to-point on a fully connected node: each (peer, direction) list of messages is cut
// into chunks that flow through a double-buffered slot in the receiver's scratch, with a
// "ready" flag per chunk (sender to receiver) and a "freed" flag back. All sends and receives
// of a group run in one launch, so any pairing completes without deadlock.
#include "device_channel.cuh"
#include "device_copy.cuh"
#include "launch.h"

namespace tutti {
namespace {

__device__ __forceinline__ char* p2pSlot(const DeviceComm& c, int owner, int src, int blk,
                                         uint64_t k) {
  return c.scratch[owner] + c.p2pOffset +
         ((static_cast<size_t>(src) * kMaxP2pBlocks + blk) * 2 + (k & 1)) * c.p2pChunkBytes;
}

__global__ void __launch_bounds__(kThreads) p2pKernel(GpuP2pArgs a) {
  const DeviceComm& c = *a.comm;
  const int r = c.rank;
  int li = 0;
  while (li + 1 < a.numLists && static_cast<int>(blockIdx.x) >= a.lists[li + 1].firstBlock) ++li;
  const GpuP2pList& list = a.lists[li];
  const int j = blockIdx.x - list.firstBlock;
  if (j >= list.numBlocks) return;
  const int peer = a.ops[list.firstOp].peer;
  const bool isSend = a.ops[list.firstOp].isSend;
  const size_t chunk = c.p2pChunkBytes;
  __shared__ int failed;
  uint64_t k = isSend ? c.counters->p2pSent[peer][j] : c.counters->p2pRecvd[peer][j];
  for (int o = list.firstOp; o < list.firstOp + list.numOps; ++o) {
    const GpuP2pOp& op = a.ops[o];
    const size_t nchunks = (op.bytes + chunk - 1) / chunk;
    for (size_t i = j; i < nchunks; i += list.numBlocks) {
      ++k;
      const size_t off = i * chunk;
      const size_t len = op.bytes - off < chunk ? op.bytes - off : chunk;
      if (threadIdx.x == 0) {
        failed = 0;
        // Sender: the slot we fill was last used by chunk k-2; wait until it was drained.
        const uint64_t* flag = isSend ? c.flags[r] + kP2pFreedOffset + peer * kMaxP2pBlocks + j
                                      : c.flags[r] + kP2pReadyOffset + peer * kMaxP2pBlocks + j;
        uint64_t want = isSend ? (k >= 2 ? k - 2 : 0) : k;
        if (!waitFlag(c, flag, want)) failed = 1;
      }
      __syncthreads();
      if (failed) return;
      if (isSend)
        blockCopy(p2pSlot(c, peer, r, j, k), op.buf + off, len);
      else
        blockCopy(op.buf + off, p2pSlot(c, r, peer, j, k), len);
      __syncthreads();
      if (threadIdx.x == 0) {
        uint64_t* flag = isSend ? c.flags[peer] + kP2pReadyOffset + r * kMaxP2pBlocks + j
                                : c.flags[peer] + kP2pFreedOffset + r * kMaxP2pBlocks + j;
        storeRelease(flag, k);
      }
    }
  }
  if (threadIdx.x == 0) {
    if (isSend)
      c.counters->p2pSent[peer][j] = k;
    else
      c.counters->p2pRecvd[peer][j] = k;
  }
}

}  // namespace

cudaError_t launchP2pKernel(const GpuP2pArgs& a, int blocks, cudaStream_t stream) {
  if (blocks == 0) {  // load only (preloadCollectiveKernels)
    cudaFuncAttributes at;
    return cudaFuncGetAttributes(&at, p2pKernel);
  }
  p2pKernel<<<blocks, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace tutti
